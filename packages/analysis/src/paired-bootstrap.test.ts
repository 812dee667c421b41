import { type Sample, ValidationError, XferError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { type PairedBenchmark, pairedBootstrapTi, pairSamples, quantileSorted } from './paired-bootstrap.js';
import { SeededRandom } from './random.js';

function sample(benchmark: string, itemId: string, score: number, sampleIndex = 0, seed = 0): Sample {
  return {
    requestHash: `${benchmark}-${itemId}-${sampleIndex}-${score}`.padEnd(64, '0').slice(0, 64),
    runId: 'run',
    benchmark,
    itemId,
    sampleIndex,
    seed,
    prompt: 'p',
    completion: 'c',
    finishReason: 'stop',
    promptTokens: 1,
    completionTokens: 1,
    latencyMs: 0,
    verdicts: [
      { grader: 'exact', graderVersion: '1', extracted: null, correct: score === 1, score, details: {} },
    ],
    createdAt: 0,
  };
}

const groups = { m: 'math', o: 'other', n: 'non' } as const;

function binaryBenchmark(
  benchmark: string,
  items: number,
  baseRate: number,
  modelRate: number,
  seed: number,
): PairedBenchmark {
  const random = new SeededRandom(seed);
  const draw = (rate: number) => (random.nextUint32() / 2 ** 32 < rate ? 100 : 0);
  const base = Float64Array.from({ length: items }, () => draw(baseRate));
  const model = Float64Array.from({ length: items }, () => draw(modelRate));
  return {
    benchmark,
    itemIds: Array.from({ length: items }, (_, i) => `i${i}`),
    model,
    base,
    samplesPerItem: 1,
  };
}

describe('pairSamples', () => {
  it('averages samples per item in percent and pairs by item, index and seed', () => {
    const model = [
      sample('m', 'a', 1, 0),
      sample('m', 'a', 0, 1),
      sample('m', 'b', 1, 0),
      sample('m', 'b', 1, 1),
    ];
    const base = [
      sample('m', 'a', 0, 0),
      sample('m', 'a', 0, 1),
      sample('m', 'b', 1, 0),
      sample('m', 'b', 0, 1),
    ];
    const { benchmarks, unpaired } = pairSamples(model, [...base, sample('x', 'a', 1)]);
    expect(unpaired).toEqual(['x']);
    expect(benchmarks[0]!.itemIds).toEqual(['a', 'b']);
    expect(Array.from(benchmarks[0]!.model)).toEqual([50, 100]);
    expect(Array.from(benchmarks[0]!.base)).toEqual([0, 50]);
    expect(benchmarks[0]!.samplesPerItem).toBe(2);
  });

  it('ignores verdicts of other grader versions (stale re-scores)', () => {
    const stale = {
      grader: 'exact',
      graderVersion: '0',
      extracted: null,
      correct: false,
      score: 0,
      details: {},
    };
    const rescored = { ...sample('m', 'a', 1), verdicts: [stale, ...sample('m', 'a', 1).verdicts] };
    const { benchmarks } = pairSamples([rescored], [sample('m', 'a', 0)], { graderVersions: { exact: '1' } });
    expect(Array.from(benchmarks[0]!.model)).toEqual([100]);
    expect(Array.from(pairSamples([rescored], [sample('m', 'a', 0)]).benchmarks[0]!.model)).toEqual([0]);
  });

  it('a sample missing on one side (or another seed) is INCOMPARABLE_RUNS; no verdict is a ValidationError', () => {
    const error = (() => {
      try {
        pairSamples([sample('m', 'a', 1, 0, 1)], [sample('m', 'a', 1, 0, 2)]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(XferError.hasCode(error, 'INCOMPARABLE_RUNS')).toBe(true);
    expect((error as Error).message).toMatch(/item a sample 0 \(seed 1\) is missing from the base run/);
    const unscored = { ...sample('m', 'a', 1), verdicts: [] };
    const thrown = (() => {
      try {
        pairSamples([unscored], [sample('m', 'a', 1)]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ValidationError.isInstance(thrown)).toBe(true);
    expect((thrown as ValidationError).field).toBe('model.m.a[0]');
  });
});

describe('pairedBootstrapTi', () => {
  const paired = [
    binaryBenchmark('m', 400, 0.3, 0.6, 1),
    binaryBenchmark('o', 300, 0.4, 0.5, 2),
    binaryBenchmark('n', 200, 0.5, 0.45, 3),
  ];

  it('is seeded: the same seed gives identical intervals, another seed different ones', () => {
    const first = pairedBootstrapTi(paired, groups, { formula: 'v1', resamples: 300, seed: 9 });
    const again = pairedBootstrapTi(paired, groups, { formula: 'v1', resamples: 300, seed: 9 });
    const other = pairedBootstrapTi(paired, groups, { formula: 'v1', resamples: 300, seed: 10 });
    expect(again).toEqual(first);
    expect(other.tiOther.low).not.toBe(first.tiOther.low);
    expect(first.tiOther.low!).toBeLessThan(first.tiOther.estimate!);
    expect(first.tiOther.high!).toBeGreaterThan(first.tiOther.estimate!);
  });

  it('the delta interval matches the normal approximation of the paired mean difference', () => {
    const result = pairedBootstrapTi(paired, groups, { formula: 'v1', resamples: 4000, seed: 1 });
    const entry = paired[0]!;
    const differences = Array.from(entry.model, (value, i) => value - entry.base[i]!);
    const mean = differences.reduce((a, b) => a + b, 0) / differences.length;
    const variance = differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / differences.length;
    const halfWidth = 1.959964 * Math.sqrt(variance / differences.length);
    const delta = result.deltas.find((d) => d.benchmark === 'm')!;
    expect(delta.estimate).toBeCloseTo(mean, 10);
    expect((delta.high! - delta.low!) / 2).toBeGreaterThan(halfWidth * 0.9);
    expect((delta.high! - delta.low!) / 2).toBeLessThan(halfWidth * 1.1);
  });

  it('pairing keeps the correlation: a constant per-item gain has a zero-width interval', () => {
    const base = binaryBenchmark('m', 50, 0.5, 0.5, 4).base.map((value) => value * 0.8);
    const shifted: PairedBenchmark = {
      ...paired[0]!,
      itemIds: Array.from(base, (_, i) => `i${i}`),
      base,
      model: base.map((value) => value + 10),
    };
    const result = pairedBootstrapTi([shifted, paired[1]!, paired[2]!], groups, {
      formula: 'v2',
      resamples: 200,
    });
    const delta = result.deltas.find((d) => d.benchmark === 'm')!;
    expect(delta.low).toBeCloseTo(10, 10);
    expect(delta.high).toBeCloseTo(10, 10);
  });

  it('one item per benchmark collapses every interval to the point estimate', () => {
    const single = paired.map((entry) => ({
      ...entry,
      itemIds: ['only'],
      model: entry.model.subarray(0, 1).map(() => 60),
      base: entry.base.subarray(0, 1).map(() => 40),
    }));
    single[1]!.model[0] = 50;
    const result = pairedBootstrapTi(single, groups, { formula: 'v1', resamples: 50 });
    // ΔR_math = 20/40 = 0.5; ΔR_other = 10/40 = 0.25 → TI_other = 50
    expect(result.tiOther).toEqual({ estimate: 50, low: 50, high: 50, undefinedReplicates: 0 });
  });

  it('replicates with an undefined TI are counted, not averaged in', () => {
    const flatMath: PairedBenchmark = { ...paired[0]!, model: paired[0]!.base };
    const result = pairedBootstrapTi([flatMath, paired[1]!, paired[2]!], groups, {
      formula: 'v1',
      resamples: 100,
    });
    expect(result.tiOther.estimate).toBeNull();
    expect(result.tiOther.low).toBeNull();
    expect(result.tiOther.undefinedReplicates).toBe(100);
    expect(() => pairedBootstrapTi(paired, groups, { formula: 'v1', resamples: 0 })).toThrow(/resamples/);
  });

  it('quantiles follow numpy linear interpolation', () => {
    // numpy.quantile([1, 2, 4, 8], 0.25) = 1 + 0.75·(2 − 1) = 1.75; at 0.9: 4 + 0.7·4 = 6.8
    expect(quantileSorted([1, 2, 4, 8], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 4, 8], 0.9)).toBeCloseTo(6.8, 12);
  });
});
