import type { Verdict } from '@xfer/core';
import type { GenerativeScorer, LoglikelihoodScorer } from '../scorers/types.js';
import {
  extractChoiceLetter,
  extractYesNo,
  firstAnswerLine,
  normalizeSquad,
  squadF1,
  stripThinking,
} from './verify.js';

const VERSION = '1';

function verdict(
  name: string,
  extracted: string | null,
  correct: boolean,
  details: Record<string, unknown> = {},
): Verdict {
  return { grader: name, graderVersion: VERSION, extracted, correct, score: correct ? 1 : 0, details };
}

/** Multiple choice by letter (GPQA / ACPBench style extraction); the target is the letter. */
export function choiceLetterScorer(name: string): GenerativeScorer {
  return {
    kind: 'generative',
    name,
    version: VERSION,
    score({ item, completion }) {
      const extracted = extractChoiceLetter(completion);
      return verdict(name, extracted, extracted === item.target);
    },
  };
}

/** A program's printed value: the last `Output: <integer>` after the reasoning. */
export function programOutputScorer(name: string): GenerativeScorer {
  return {
    kind: 'generative',
    name,
    version: VERSION,
    score({ item, completion }) {
      const matches = [...stripThinking(completion).matchAll(/Output:\s*(-?\d+)/g)];
      const extracted = matches.length > 0 ? matches[matches.length - 1]![1]! : null;
      return verdict(name, extracted, extracted !== null && Number(extracted) === Number(item.target));
    },
  };
}

/** Extractive QA (CoQA style): first line after the reasoning; exact match is the metric, F1 in details. */
export function extractiveAnswerScorer(name: string): GenerativeScorer {
  return {
    kind: 'generative',
    name,
    version: VERSION,
    score({ item, completion }) {
      const line = firstAnswerLine(completion).replace(/\.$/, '');
      const reference = String(item.target);
      const exact = normalizeSquad(line) === normalizeSquad(reference);
      return verdict(name, line, exact, { f1: squadF1(line, reference) });
    },
  };
}

/** Yes/No judgement (HaluEval style): exactly one of Yes/No on the first line, compared to the label. */
export function yesNoScorer(name: string): GenerativeScorer {
  return {
    kind: 'generative',
    name,
    version: VERSION,
    score({ item, completion }) {
      const extracted = extractYesNo(completion);
      return verdict(name, extracted, extracted === item.target);
    },
  };
}

/**
 * Log-likelihood multiple choice (lm-eval `acc`): the choice with the highest summed logprob wins; the
 * target is the index of the correct choice. `acc_norm` (per-byte normalised) is kept in details.
 */
export function loglikelihoodChoiceScorer(name: string): LoglikelihoodScorer {
  return {
    kind: 'loglikelihood',
    name,
    version: VERSION,
    score({ item, choices }) {
      const sums = choices.map((choice) => choice.logprobs.reduce((total, value) => total + value, 0));
      const lengths = (item.choices ?? []).map((choice) =>
        Math.max(1, new TextEncoder().encode(choice).length),
      );
      const best = argmax(sums);
      const bestNorm = argmax(sums.map((sum, index) => sum / (lengths[index] ?? 1)));
      const target = Number(item.target);
      return verdict(name, item.choices?.[best] ?? String(best), best === target, {
        accNorm: bestNorm === target,
        logprobs: sums,
      });
    },
  };
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}
