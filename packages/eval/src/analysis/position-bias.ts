import type { BenchmarkItem } from '@xfer/core';
import type { MultipleChoiceLayout } from '../registry/benchmark.js';

/** How the gold (and, when given, predicted) answers spread over the answer positions of a benchmark. */
export interface PositionBiasReport {
  labels: string[];
  n: number;
  goldCounts: number[];
  /** The most common gold position and its share: the accuracy of always answering it. */
  majorityLabel: string;
  majorityShare: number;
  /** Pearson chi-square against a uniform spread, its degrees of freedom and upper-tail p-value. */
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  /** True when the gold spread is far from uniform (p < 0.001) — a constant answer beats chance. */
  biased: boolean;
  /** Predicted positions (from verdicts), when given. */
  predictedCounts?: number[];
  message: string;
}

function logGamma(x: number): number {
  const coefficients = [
    76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2,
    -0.5395239384953e-5,
  ];
  let y = x;
  const temporary = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let series = 1.000000000190015;
  for (const coefficient of coefficients) series += coefficient / ++y;
  return -temporary + Math.log((2.5066282746310007 * series) / x);
}

/** Regularised upper incomplete gamma Q(a, x) (series for x < a + 1, continued fraction otherwise). */
function upperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Upper-tail p-value of a chi-square statistic. */
export function chiSquarePValue(statistic: number, degreesOfFreedom: number): number {
  return upperGamma(degreesOfFreedom / 2, statistic / 2);
}

/**
 * Detect answer-position bias in a multiple-choice benchmark: count the gold position of every item, test the
 * spread against uniform, and report the accuracy a constant answer would get. Predicted positions (e.g. the
 * `extracted` letters of a model's verdicts) are counted beside them when given.
 */
export function answerPositionBias(
  items: readonly BenchmarkItem[],
  layout: MultipleChoiceLayout,
  predicted?: readonly (string | null)[],
): PositionBiasReport {
  const labels = [...layout.labels];
  const goldCounts = labels.map(() => 0);
  for (const item of items) {
    const position = layout.goldPosition(item);
    if (position >= 0 && position < labels.length) goldCounts[position]!++;
  }
  const n = goldCounts.reduce((total, count) => total + count, 0);
  const expected = n / labels.length;
  const chiSquare =
    expected === 0 ? 0 : goldCounts.reduce((total, count) => total + (count - expected) ** 2 / expected, 0);
  const degreesOfFreedom = labels.length - 1;
  const pValue = n === 0 ? 1 : chiSquarePValue(chiSquare, degreesOfFreedom);
  let majority = 0;
  goldCounts.forEach((count, index) => {
    if (count > goldCounts[majority]!) majority = index;
  });
  const majorityShare = n === 0 ? 0 : goldCounts[majority]! / n;
  const biased = n > 0 && pValue < 1e-3;
  const report: PositionBiasReport = {
    labels,
    n,
    goldCounts,
    majorityLabel: labels[majority]!,
    majorityShare,
    chiSquare,
    degreesOfFreedom,
    pValue,
    biased,
    message: biased
      ? `answer-position bias: the gold answer is "${labels[majority]}" for ${goldCounts[majority]}/${n} items (${(100 * majorityShare).toFixed(1)}%); always answering "${labels[majority]}" scores ${(100 * majorityShare).toFixed(1)}% (chance ${(100 / labels.length).toFixed(1)}%, chi2=${chiSquare.toFixed(1)}, p=${pValue.toExponential(2)})`
      : `no answer-position bias detected (largest gold share "${labels[majority]}" ${(100 * majorityShare).toFixed(1)}%, p=${pValue.toFixed(3)})`,
  };
  if (predicted !== undefined && layout.predictedPosition !== undefined) {
    const counts = labels.map(() => 0);
    for (const extracted of predicted) {
      const position = layout.predictedPosition(extracted);
      if (position !== undefined && position >= 0 && position < labels.length) counts[position]!++;
    }
    report.predictedCounts = counts;
  }
  return report;
}
