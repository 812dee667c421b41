import { describe, expect, it } from 'vitest';
import { bootstrapMeans, mean, passAtK, quantile, summarize } from './metrics.js';
import { sampleSeed } from './seeds.js';

function choose(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}

describe('passAtK', () => {
  it('matches 1 - C(n-c,k)/C(n,k) and its edge cases', () => {
    for (const [n, c, k] of [
      [10, 3, 1],
      [10, 3, 5],
      [20, 1, 4],
      [8, 0, 2],
    ] as const) {
      expect(passAtK(n, c, k)).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 12);
    }
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(5, 5, 3)).toBe(1);
    expect(passAtK(5, 3, 3)).toBe(1); // n - c < k: some correct sample is always drawn
    expect(() => passAtK(4, 1, 5)).toThrow(RangeError);
  });
});

describe('bootstrap', () => {
  it('is reproducible from its seed and brackets the mean', () => {
    const values = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const a = bootstrapMeans(values, 500, 7);
    expect(bootstrapMeans(values, 500, 7)).toEqual(a);
    expect(bootstrapMeans(values, 500, 8)).not.toEqual(a);
    expect(quantile(a, 0.025)).toBeLessThan(mean(values));
    expect(quantile(a, 0.975)).toBeGreaterThan(mean(values));
  });
});

describe('summarize', () => {
  it('averages pass@1 over samples, reports pass@k, truncation and macro group means', () => {
    const samples = [
      // item a: 2 of 4 correct; item b: 4 of 4; one truncated sample
      ...[1, 0, 1, 0].map((c, i) => ({
        benchmark: 'm1',
        itemId: 'a',
        sampleIndex: i,
        score: c,
        correct: c === 1,
        truncated: i === 3,
        completionTokens: 10,
      })),
      ...[1, 1, 1, 1].map((c, i) => ({
        benchmark: 'm1',
        itemId: 'b',
        sampleIndex: i,
        score: c,
        correct: true,
        truncated: false,
        completionTokens: 20,
      })),
      ...[0, 1].map((c, i) => ({
        benchmark: 'n1',
        itemId: `x${i}`,
        sampleIndex: 0,
        score: c,
        correct: c === 1,
        truncated: false,
        completionTokens: 1,
      })),
    ];
    const summary = summarize(
      samples,
      new Map([
        ['m1', 'math'],
        ['n1', 'non'],
      ] as const),
      { replicates: 200, seed: 1 },
    );
    const m1 = summary.benchmarks.find((b) => b.benchmark === 'm1')!;
    expect(m1.pass1.value).toBeCloseTo(0.75, 12);
    expect(m1.passAtK['pass@1']).toBeCloseTo(0.75, 12);
    expect(m1.passAtK['pass@2']).toBeCloseTo((passAtK(4, 2, 2) + 1) / 2, 12);
    expect(Object.keys(m1.passAtK)).toEqual(['pass@1', 'pass@2', 'pass@4']);
    expect(m1.truncationRate).toBeCloseTo(1 / 8, 12);
    expect(m1.samplesPerItem).toBe(4);
    expect(summary.groups.map((g) => [g.group, g.pass1.value])).toEqual([
      ['math', 0.75],
      ['non', 0.5],
    ]);
  });
});

describe('sampleSeed', () => {
  it('depends on run seed, benchmark, item and sample index only', () => {
    const seed = sampleSeed(0, 'math', 'q1', 0);
    expect(sampleSeed(0, 'math', 'q1', 0)).toBe(seed);
    expect(
      new Set([
        seed,
        sampleSeed(1, 'math', 'q1', 0),
        sampleSeed(0, 'gpqa', 'q1', 0),
        sampleSeed(0, 'math', 'q2', 0),
        sampleSeed(0, 'math', 'q1', 1),
      ]).size,
    ).toBe(5);
    expect(seed).toBeGreaterThanOrEqual(0);
    expect(seed).toBeLessThan(2 ** 32);
  });
});
