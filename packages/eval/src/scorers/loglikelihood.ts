import { type ScoreResult, ValidationError, type Verdict } from '@xfer/core';
import type { LoglikelihoodScorer } from './types.js';

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}

/**
 * lm-eval multiple choice from per-token logprobs: `acc` takes the argmax of the summed log-likelihood of each
 * choice, `acc_norm` the argmax of the sum divided by the choice's character length (ties go to the first, as
 * `np.argmax`). `item.target` is the 0-based gold index. The verdict is `acc`; `details.accNorm` the other.
 */
export const loglikelihoodScorer: LoglikelihoodScorer = {
  kind: 'loglikelihood',
  name: 'loglikelihood-mc',
  version: '1',
  score({ item, choices }): Verdict {
    const options = item.choices ?? [];
    if (choices.length !== options.length || options.length === 0) {
      throw new ValidationError({
        field: 'choices',
        message: `item ${item.id} has ${options.length} choices but ${choices.length} score results`,
      });
    }
    const sums = choices.map((result: ScoreResult) =>
      result.logprobs.reduce((total, value) => total + value, 0),
    );
    const normalised = sums.map((sum, index) => sum / Math.max(1, options[index]!.length));
    const predicted = argmax(sums);
    const predictedNorm = argmax(normalised);
    const gold = Number(item.target);
    const correct = predicted === gold;
    return {
      grader: 'loglikelihood-mc',
      graderVersion: '1',
      extracted: String(predicted),
      correct,
      score: correct ? 1 : 0,
      details: {
        accNorm: predictedNorm === gold,
        predictedNorm,
        logLikelihoods: sums,
        isGreedy: choices.map((result) => result.isGreedy.every(Boolean)),
      },
    };
  },
};

/** Binary F1 with class 1 positive (sklearn `f1_score` as lm-eval's MC-TACO `f1`). */
export function binaryF1(pairs: readonly { gold: number; predicted: number }[]): number {
  let truePositive = 0;
  let falsePositive = 0;
  let falseNegative = 0;
  for (const { gold, predicted } of pairs) {
    if (predicted === 1 && gold === 1) truePositive++;
    else if (predicted === 1) falsePositive++;
    else if (gold === 1) falseNegative++;
  }
  const denominator = 2 * truePositive + falsePositive + falseNegative;
  return denominator === 0 ? 0 : (2 * truePositive) / denominator;
}
