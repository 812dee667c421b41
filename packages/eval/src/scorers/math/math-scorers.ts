import type { Verdict } from '@xfer/core';
import { responseFlags, stripReasoning } from '../thinking.js';
import type { GenerativeScorer } from '../types.js';
import { allBoxedAnswers, extractBoxedAnswer } from './boxed.js';
import { isEquivHendrycks, isEquivLmEval } from './hendrycks.js';
import { compareSymbolic } from './symbolic.js';

/** The gold answer of a math item: `item.target` as a string. */
function goldAnswer(target: unknown): string {
  if (typeof target === 'string') return target;
  if (typeof target === 'number') return String(target);
  if (Array.isArray(target) && typeof target[0] === 'string') return target[0];
  return String(target ?? '');
}

function mathScorer(
  name: string,
  version: string,
  compare: (gold: string, extracted: string) => { equal: boolean; details?: Record<string, unknown> },
): GenerativeScorer {
  return {
    kind: 'generative',
    name,
    version,
    score({ item, completion, finishReason }): Verdict {
      const stripped = stripReasoning(completion);
      const extracted = extractBoxedAnswer(stripped.text);
      const gold = goldAnswer(item.target);
      const result = extracted === null ? { equal: false } : compare(gold, extracted);
      return {
        grader: name,
        graderVersion: version,
        extracted,
        correct: result.equal,
        score: result.equal ? 1 : 0,
        details: {
          ...responseFlags(stripped, finishReason),
          boxedCount: allBoxedAnswers(stripped.text).length,
          ...result.details,
        },
      };
    },
  };
}

/** Last `\boxed{}` + Hendrycks `is_equiv` (evalchemy MATH500/AIME): the protocol default. */
export const mathHendrycksScorer = mathScorer('math-hendrycks', '1', (gold, extracted) => ({
  equal: isEquivHendrycks(gold, extracted),
}));

/** Last `\boxed{}` + lm-eval's `is_equiv` (leading zeros and trailing `.0` dropped first): OlympiadBench. */
export const mathLmEvalScorer = mathScorer('math-lm-eval', '1', (gold, extracted) => ({
  equal: isEquivLmEval(gold, extracted),
}));

/** Last `\boxed{}` + symbolic-numeric equivalence, reported beside the string grader. */
export const mathSymbolicScorer = mathScorer('math-symbolic', '1', (gold, extracted) => {
  const comparison = compareSymbolic(gold, extracted);
  return { equal: comparison.equal, details: { method: comparison.method } };
});

/** One item on which two graders disagree. */
export interface GraderDisagreement {
  id: string;
  gold: unknown;
  extracted: string | null;
  verdicts: Record<string, boolean>;
}

/**
 * The disagreement audit: for every item scored by several graders, list those where they do not all agree,
 * with counts per direction (`a-only`: only grader a accepted).
 */
export function auditGraders(rows: readonly { id: string; gold: unknown; verdicts: readonly Verdict[] }[]): {
  disagreements: GraderDisagreement[];
  counts: Record<string, number>;
} {
  const disagreements: GraderDisagreement[] = [];
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const values = row.verdicts.map((verdict) => verdict.correct);
    if (values.every((value) => value === values[0])) continue;
    const accepted = row.verdicts.filter((verdict) => verdict.correct).map((verdict) => verdict.grader);
    const key = `${accepted.join('+')}-only`;
    counts[key] = (counts[key] ?? 0) + 1;
    disagreements.push({
      id: row.id,
      gold: row.gold,
      extracted: row.verdicts[0]?.extracted ?? null,
      verdicts: Object.fromEntries(row.verdicts.map((verdict) => [verdict.grader, verdict.correct])),
    });
  }
  return { disagreements, counts };
}
