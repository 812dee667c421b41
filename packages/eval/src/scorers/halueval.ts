import type { Verdict } from '@xfer/core';
import { responseFlags, stripReasoning } from './thinking.js';
import type { GenerativeScorer } from './types.js';

/**
 * lm-eval HaluEval judgement: the first line of the stripped output; exactly one of the case-sensitive
 * substrings `Yes` / `No` must occur (so `Not sure` counts as No, as in the reference). Returns `yes`, `no`, or
 * null when the line has both or neither.
 */
export function extractHaluevalJudgement(response: string): 'yes' | 'no' | null {
  const firstLine = response.trim().split('\n')[0] ?? '';
  const yes = firstLine.includes('Yes');
  const no = firstLine.includes('No');
  if (yes === no) return null;
  return yes ? 'yes' : 'no';
}

function haluevalScorer(name: string, strip: boolean): GenerativeScorer {
  return {
    kind: 'generative',
    name,
    version: '1',
    score({ item, completion, finishReason }): Verdict {
      const stripped = strip ? stripReasoning(completion) : undefined;
      const extracted = extractHaluevalJudgement(stripped?.text ?? completion);
      const correct = extracted !== null && extracted === item.target;
      return {
        grader: name,
        graderVersion: '1',
        extracted,
        correct,
        score: correct ? 1 : 0,
        details: { ...responseFlags(stripped, finishReason), judged: extracted !== null },
      };
    },
  };
}

/** The paper's protocol: no `</think>` stripping for HaluEval (a thinking model's first line is its reasoning). */
export const haluevalYesNoScorer = haluevalScorer('halueval-yes-no', false);
/** The same judgement after stripping reasoning up to `</think>`: reported beside the protocol scorer. */
export const haluevalYesNoStrippedScorer = haluevalScorer('halueval-yes-no-stripped', true);
