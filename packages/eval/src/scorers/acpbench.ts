import type { Verdict } from '@xfer/core';
import { responseFlags, stripReasoning } from './thinking.js';
import type { GenerativeScorer } from './types.js';

/** The paper's ACPBench `mcq-extract` regex (lm-eval `multi_choice_regex`), unchanged. */
export const acpAnswerPattern =
  /(((?<=[answer is ])[A-D])|([A-D]\n)|([A-D]\.)|( [A-D] )|(^[A-D]$)|(\[[A-D]\])|([A-D])|(?<=..Final Answer..: )(.*)(?=.)|(?<=..answer..: )(.*)(?=.)|(?<=..Answer..: )(.*)(?=.))/g;

const punctuation = /\p{P}/gu;

function lastMatch(pattern: RegExp, text: string): string | undefined {
  let last: string | undefined;
  for (const match of text.matchAll(pattern)) {
    const first = match.slice(1).find((group) => group !== undefined && group !== '');
    if (first !== undefined) last = first.trim();
  }
  return last === '' ? undefined : last;
}

function ignoreCaseAndPunctuation(text: string): string {
  return text.toLowerCase().replace(punctuation, '');
}

/**
 * lm-eval `MultiChoiceRegexFilter` as the paper configured it (`group_select: -1`, `ignore_case`,
 * `ignore_punctuation`): the last match of the regex; else the fallbacks built from `doc["choices"]`. ACPBench
 * stores choices as a dict, so Python iterates its KEYS and the fallbacks are the words `text` → `(A)` and
 * `label` → `(B)` (a harness quirk kept for fidelity); else `: A`-style letters; else `[invalid]`.
 */
export function extractAcpAnswer(response: string): string {
  const main = lastMatch(new RegExp(acpAnswerPattern.source, 'g'), response);
  if (main !== undefined) return main;
  const normalised = ignoreCaseAndPunctuation(response);
  const keyFallback = lastMatch(/(text|label)/g, normalised);
  if (keyFallback !== undefined) return keyFallback === 'text' ? '(A)' : '(B)';
  const colon = lastMatch(/:[\s]*(A|B|C|D)/g, response);
  if (colon !== undefined) return `(${colon})`;
  return '[invalid]';
}

/** lm-eval `exact_match` with the ACPBench options: regexes ignored, case and Unicode punctuation ignored. */
export function acpExactMatch(predicted: string, gold: string): boolean {
  const clean = (text: string) =>
    ignoreCaseAndPunctuation(
      text.replace(/\.$/, '').replace(/,/g, '').replace(/\\/g, '').replace(/\n/g, '').replace(/"/g, ''),
    );
  return clean(predicted) === clean(gold);
}

/** ACPBench multiple-choice regex scorer. */
export const acpMultiChoiceScorer: GenerativeScorer = {
  kind: 'generative',
  name: 'acp-multi-choice-regex',
  version: '1',
  score({ item, completion, finishReason }): Verdict {
    const stripped = stripReasoning(completion);
    const extracted = extractAcpAnswer(stripped.text);
    const correct = acpExactMatch(extracted, String(item.target));
    return {
      grader: 'acp-multi-choice-regex',
      graderVersion: '1',
      extracted,
      correct,
      score: correct ? 1 : 0,
      details: responseFlags(stripped, finishReason),
    };
  },
};
