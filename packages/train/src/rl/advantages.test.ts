import { describe, expect, it } from 'vitest';
import {
  clippedObjective,
  informativeGroups,
  k3,
  meanAndStd,
  overlongPenalty,
  sequenceWeights,
} from './advantages.js';

const outcome = (group: number, reward: number) => ({ group, reward, correct: reward > 0 });

describe('GRPO advantages', () => {
  it('normalise within each group with the unbiased std (hand-computed)', () => {
    // Group 0 rewards [1, 0, 0, 1]: mean 0.5, unbiased variance (4 × 0.25)/3 = 1/3, std 0.57735.
    // (1 − 0.5)/(0.57735 + 1e-6) = 0.866024; (0 − 0.5)/… = −0.866024.
    // Group 1 rewards [1, 0]: mean 0.5, std sqrt(0.5) = 0.707107 → ±0.707106.
    const weights = sequenceWeights(
      [outcome(0, 1), outcome(0, 0), outcome(0, 0), outcome(0, 1), outcome(1, 1), outcome(1, 0)],
      {
        weights: 'grpo',
        negatives: true,
      },
    );
    // 0.5 / (sqrt(1/3) + 1e-6) and 0.5 / (sqrt(0.5) + 1e-6), rounded to 6 decimals.
    const group0 = 0.866024;
    const group1 = Number((0.5 / (Math.sqrt(0.5) + 1e-6)).toFixed(6));
    expect(weights.map((w) => Number(w.toFixed(6)))).toEqual([
      group0,
      -group0,
      -group0,
      group0,
      group1,
      -group1,
    ]);
  });

  it('give zero advantage to a group whose rewards are all equal', () => {
    expect(sequenceWeights([outcome(0, 1), outcome(0, 1)], { weights: 'grpo', negatives: true })).toEqual([
      0, 0,
    ]);
  });

  it('Dr. GRPO drops the std scaling', () => {
    // rewards [1, 0, 0]: mean 1/3 → [2/3, −1/3, −1/3]
    const weights = sequenceWeights([outcome(0, 1), outcome(0, 0), outcome(0, 0)], {
      weights: 'dr-grpo',
      negatives: true,
    });
    expect(weights[0]).toBeCloseTo(2 / 3, 12);
    expect(weights[1]).toBeCloseTo(-1 / 3, 12);
  });

  it('without negatives, incorrect responses carry no weight (rejection-sampled SFT)', () => {
    expect(
      sequenceWeights([outcome(0, 1), outcome(0, 0), outcome(0, 1)], {
        weights: 'uniform',
        negatives: false,
      }),
    ).toEqual([1, 0, 1]);
  });

  it('reject non-finite rewards', () => {
    expect(() =>
      sequenceWeights([outcome(0, Number.NaN)], { weights: 'grpo', negatives: true }),
    ).toThrowError(/field 'reward'/);
  });

  it('mean and std of edge cases', () => {
    expect(meanAndStd([])).toEqual({ mean: 0, std: 0 });
    expect(meanAndStd([3])).toEqual({ mean: 3, std: 0 });
  });
});

describe('PPO clipping (εlow 0.2, εhigh 0.28)', () => {
  const clip = { low: 0.2, high: 0.28 };
  it.each([
    // ratio, advantage, expected value, clipped?
    [1.0, 1, 1.0, false],
    [1.5, 1, 1.28, true], // positive advantage: ratio capped at 1 + 0.28
    [0.5, 1, 0.5, false], // positive advantage, ratio below 1 − 0.2: min picks the unclipped 0.5
    [0.5, -1, -0.8, true], // negative advantage: clip(0.5) = 0.8 → −0.8 < −0.5
    [1.5, -1, -1.5, false], // negative advantage, large ratio: unclipped −1.5 is smaller
  ])('ratio %f, advantage %f → %f', (ratio, advantage, value, clipped) => {
    const result = clippedObjective(ratio, advantage, clip);
    expect(result.value).toBeCloseTo(value, 12);
    expect(result.clipped).toBe(clipped);
  });
});

describe('k3 KL estimator', () => {
  it('matches exp(d) − d − 1 with d = ref − logp, is zero at equality and non-negative', () => {
    expect(k3(-1.2, -1.2)).toBe(0);
    const d = -0.5 - -1.0; // ref −0.5, logp −1.0
    expect(k3(-1.0, -0.5)).toBeCloseTo(Math.exp(d) - d - 1, 15);
    for (const [a, b] of [
      [-3, -0.1],
      [-0.1, -3],
      [-2, -2.5],
    ] as const)
      expect(k3(a, b)).toBeGreaterThan(0);
  });

  it('is an unbiased estimator of KL(π‖ref) under samples from π', () => {
    // Two-token vocabulary: π = (0.7, 0.3), ref = (0.4, 0.6). E_π[k3] = Σ π(x)(ref/π − log(ref/π) − 1)
    // = Σ ref − Σ π log(ref/π) − 1 = KL(π‖ref).
    const pi = [0.7, 0.3];
    const ref = [0.4, 0.6];
    const expected = pi.reduce((s, p, i) => s + p * Math.log(p / ref[i]!), 0);
    const estimate = pi.reduce((s, p, i) => s + p * k3(Math.log(p), Math.log(ref[i]!)), 0);
    expect(estimate).toBeCloseTo(expected, 12);
  });
});

describe('overlong penalty and dynamic sampling', () => {
  it('penalises linearly inside the buffer (DAPO)', () => {
    const overlong = { buffer: 4, factor: 1 };
    expect(overlongPenalty(10, 16, overlong)).toBe(0); // under 16 − 4 = 12
    expect(overlongPenalty(14, 16, overlong)).toBe(-0.5);
    expect(overlongPenalty(16, 16, overlong)).toBe(-1);
    expect(overlongPenalty(16, 16, null)).toBe(0);
  });

  it('keeps only groups with differing rewards', () => {
    const groups = informativeGroups([
      outcome(0, 1),
      outcome(0, 1),
      outcome(1, 0),
      outcome(1, 1),
      outcome(2, 0),
    ]);
    expect([...groups]).toEqual([1]);
  });
});
