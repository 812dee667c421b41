import type { Verdict } from '@xfer/core';
import { responseFlags, stripReasoning } from './thinking.js';
import type { GenerativeScorer } from './types.js';

const asciiPunctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** SQuAD `normalize_answer`: lower-case, drop ASCII punctuation and the articles a/an/the, collapse spaces. */
export function normalizeSquadAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(asciiPunctuation, '')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter((token) => token !== '')
    .join(' ');
}

/** SQuAD `compute_exact`. */
export function squadExact(gold: string, predicted: string): number {
  return normalizeSquadAnswer(gold) === normalizeSquadAnswer(predicted) ? 1 : 0;
}

/** SQuAD `compute_f1` (token-overlap F1; two empty answers score 1). */
export function squadF1(gold: string, predicted: string): number {
  const goldTokens = gold ? normalizeSquadAnswer(gold).split(' ').filter(Boolean) : [];
  const predictedTokens = predicted ? normalizeSquadAnswer(predicted).split(' ').filter(Boolean) : [];
  if (goldTokens.length === 0 || predictedTokens.length === 0) {
    return goldTokens.length === predictedTokens.length ? 1 : 0;
  }
  const counts = new Map<string, number>();
  for (const token of goldTokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predictedTokens) {
    const available = counts.get(token) ?? 0;
    if (available > 0) {
      same++;
      counts.set(token, available - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predictedTokens.length;
  const recall = same / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * lm-eval CoQA `compute_scores`: with several golds, the mean over leave-one-out subsets of the best match;
 * with one gold, the plain match.
 */
export function coqaScores(golds: readonly string[], predicted: string): { em: number; f1: number } {
  if (golds.length === 0) return { em: 0, f1: 0 };
  if (golds.length === 1) return { em: squadExact(golds[0]!, predicted), f1: squadF1(golds[0]!, predicted) };
  let em = 0;
  let f1 = 0;
  for (let left = 0; left < golds.length; left++) {
    const others = golds.filter((_, index) => index !== left);
    em += Math.max(...others.map((gold) => squadExact(gold, predicted)));
    f1 += Math.max(...others.map((gold) => squadF1(gold, predicted)));
  }
  return { em: em / golds.length, f1: f1 / golds.length };
}

/** The paper fork's CoQA prediction: strip, drop reasoning up to `</think>`, keep the first line. */
export function extractCoqaAnswer(response: string): {
  answer: string;
  stripped: ReturnType<typeof stripReasoning>;
} {
  const stripped = stripReasoning(response.trim());
  return { answer: stripped.text.split('\n')[0] ?? '', stripped };
}

/** CoQA exact match and F1 with SQuAD normalisation; `correct` is EM = 1, `score` is F1. */
export const coqaScorer: GenerativeScorer = {
  kind: 'generative',
  name: 'coqa-squad',
  version: '1',
  score({ item, completion, finishReason }): Verdict {
    const golds = Array.isArray(item.target) ? item.target.map(String) : [String(item.target)];
    const { answer, stripped } = extractCoqaAnswer(completion);
    const { em, f1 } = coqaScores(golds, answer);
    return {
      grader: 'coqa-squad',
      graderVersion: '1',
      extracted: answer,
      correct: em === 1,
      score: f1,
      details: { ...responseFlags(stripped, finishReason), em, f1 },
    };
  },
};
