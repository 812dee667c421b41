/**
 * Item-level paired statistics for the TI: pair a tuned model's samples with its base's on the same items
 * and seeds, then bootstrap items (the same resampled items for both models) to get confidence intervals for
 * each benchmark's score change and for each group's TI.
 *
 * @module
 */
import { type BenchmarkGroup, type Sample, ValidationError, XferError } from '@xfer/core';
import { SeededRandom } from './random.js';
import { type TiOptions, type TiResult, transferabilityIndex } from './ti.js';

/** Per-item scores of one benchmark for the tuned model and its base, in the same item order. */
export interface PairedBenchmark {
  benchmark: string;
  itemIds: string[];
  /** Item score in percent (mean over the item's samples), tuned model. */
  model: Float64Array;
  /** Same for the base. */
  base: Float64Array;
  /** Samples per item. */
  samplesPerItem: number;
}

/** How a sample's score is read from its verdicts. */
export interface SampleScoreOptions {
  /** Use this grader's verdict (default: the sample's only verdict, or its first). */
  grader?: string;
  /**
   * Grader → version of the run (the store's `scorerVersions`): verdicts of other versions (stale re-scores)
   * are ignored.
   */
  graderVersions?: Readonly<Record<string, string>>;
}

function sampleScore(sample: Sample, side: string, options: SampleScoreOptions): number {
  const versions = options.graderVersions;
  const current =
    versions === undefined
      ? sample.verdicts
      : sample.verdicts.filter((entry) => versions[entry.grader] === entry.graderVersion);
  const verdict =
    options.grader === undefined ? current[0] : current.find((entry) => entry.grader === options.grader);
  if (verdict === undefined) {
    throw new ValidationError({
      field: `${side}.${sample.benchmark}.${sample.itemId}[${sample.sampleIndex}]`,
      message: `sample ${sample.requestHash} has no ${options.grader ?? ''} verdict${versions ? " of the run's scorer versions" : ''}: score the run first`,
    });
  }
  return verdict.score;
}

/**
 * Pair two runs' samples by (benchmark, item, sample index, seed). Both runs must hold exactly the same
 * keys for every benchmark they share, or an `INCOMPARABLE_RUNS` error says which key is missing where.
 * Benchmarks that only one run has are left out (listed in `unpaired`).
 */
export function pairSamples(
  modelSamples: readonly Sample[],
  baseSamples: readonly Sample[],
  options: SampleScoreOptions = {},
): { benchmarks: PairedBenchmark[]; unpaired: string[] } {
  const index = (samples: readonly Sample[], side: string) => {
    const byBenchmark = new Map<string, Map<string, Sample>>();
    for (const sample of samples) {
      let map = byBenchmark.get(sample.benchmark);
      if (!map) byBenchmark.set(sample.benchmark, (map = new Map()));
      const key = `${sample.itemId}\u0000${sample.sampleIndex}\u0000${sample.seed}`;
      if (map.has(key)) {
        throw new ValidationError({
          field: `${side}.${sample.benchmark}.${sample.itemId}[${sample.sampleIndex}]`,
          message: `duplicate sample (seed ${sample.seed})`,
        });
      }
      map.set(key, sample);
    }
    return byBenchmark;
  };
  const model = index(modelSamples, 'model');
  const base = index(baseSamples, 'base');
  const unpaired = [...new Set([...model.keys(), ...base.keys()])]
    .filter((id) => !model.has(id) || !base.has(id))
    .sort();
  const benchmarks: PairedBenchmark[] = [];
  for (const benchmark of [...model.keys()].filter((id) => base.has(id)).sort()) {
    const modelMap = model.get(benchmark)!;
    const baseMap = base.get(benchmark)!;
    for (const [from, to, side] of [
      [modelMap, baseMap, 'base'],
      [baseMap, modelMap, 'model'],
    ] as const) {
      for (const [key, sample] of from) {
        if (!to.has(key)) {
          throw new XferError({
            code: 'INCOMPARABLE_RUNS',
            message: `${benchmark}: item ${sample.itemId} sample ${sample.sampleIndex} (seed ${sample.seed}) is missing from the ${side} run: paired statistics need the same items and seeds`,
            data: {
              benchmark,
              itemId: sample.itemId,
              sampleIndex: sample.sampleIndex,
              seed: sample.seed,
              missingFrom: side,
            },
          });
        }
      }
    }
    const items = new Map<string, { model: number; base: number; count: number }>();
    for (const [key, sample] of modelMap) {
      const entry = items.get(sample.itemId) ?? { model: 0, base: 0, count: 0 };
      entry.model += sampleScore(sample, 'model', options);
      entry.base += sampleScore(baseMap.get(key)!, 'base', options);
      entry.count++;
      items.set(sample.itemId, entry);
    }
    const itemIds = [...items.keys()].sort();
    const counts = new Set(itemIds.map((id) => items.get(id)!.count));
    benchmarks.push({
      benchmark,
      itemIds,
      model: Float64Array.from(itemIds, (id) => (100 * items.get(id)!.model) / items.get(id)!.count),
      base: Float64Array.from(itemIds, (id) => (100 * items.get(id)!.base) / items.get(id)!.count),
      samplesPerItem: counts.size === 1 ? [...counts][0]! : Number.NaN,
    });
  }
  return { benchmarks, unpaired };
}

/** A point estimate with a percentile bootstrap interval. */
export interface Interval {
  estimate: number | null;
  low: number | null;
  high: number | null;
  /** Replicates where the statistic was undefined (e.g. a zero math gain), left out of the interval. */
  undefinedReplicates: number;
}

export interface BootstrapOptions extends TiOptions {
  /** Bootstrap replicates (default 2000). */
  resamples?: number;
  /** Seed of every resample; each benchmark draws from its own stream (seed, benchmark id). */
  seed?: number;
  /** Two-sided confidence level (default 0.95). */
  confidence?: number;
}

export interface PairedTiResult {
  point: TiResult;
  deltas: (Interval & { benchmark: string; items: number; model: number; base: number })[];
  tiOther: Interval;
  tiNon: Interval;
  /** Group index (ΔR_g for v1, DI_g for v2) intervals. */
  groupIndex: Record<BenchmarkGroup, Interval>;
  resamples: number;
  seed: number;
  confidence: number;
}

/** numpy's default (linear, "type 7") quantile of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

function interval(
  estimate: number | null,
  values: number[],
  undefinedCount: number,
  confidence: number,
): Interval {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return {
    estimate,
    low: sorted.length === 0 ? null : quantileSorted(sorted, tail),
    high: sorted.length === 0 ? null : quantileSorted(sorted, 1 - tail),
    undefinedReplicates: undefinedCount + (values.length - sorted.length),
  };
}

function mean(values: Float64Array, indices?: Int32Array): number {
  let sum = 0;
  if (indices) {
    for (let i = 0; i < indices.length; i++) sum += values[indices[i]!]!;
    return sum / indices.length;
  }
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/**
 * TI with item-level paired bootstrap intervals. Each replicate resamples each benchmark's items with
 * replacement (the same items for tuned and base, so their correlation is kept) and recomputes every score,
 * delta and TI. Benchmark streams are seeded by (seed, benchmark id): two tuned models of the same base,
 * bootstrapped with the same seed, see the same resampled items.
 */
export function pairedBootstrapTi(
  paired: readonly PairedBenchmark[],
  groups: Readonly<Record<string, BenchmarkGroup>>,
  options: BootstrapOptions,
): PairedTiResult {
  const resamples = options.resamples ?? 2000;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new ValidationError({
      field: 'resamples',
      message: `must be a positive integer, got ${resamples}`,
    });
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new ValidationError({ field: 'confidence', message: `must be within (0, 1), got ${confidence}` });
  }
  for (const entry of paired) {
    if (entry.itemIds.length === 0) {
      throw new ValidationError({ field: entry.benchmark, message: 'no paired items' });
    }
  }
  const scores = (pick: (entry: PairedBenchmark) => number) =>
    Object.fromEntries(paired.map((entry) => [entry.benchmark, pick(entry)]));
  const point = transferabilityIndex(
    scores((entry) => mean(entry.model)),
    scores((entry) => mean(entry.base)),
    groups,
    options,
  );
  const streams = paired.map((entry) => new SeededRandom(seed, entry.benchmark));
  const buffers = paired.map((entry) => new Int32Array(entry.itemIds.length));
  const deltaSamples = paired.map(() => [] as number[]);
  const tiOther: number[] = [];
  const tiNon: number[] = [];
  const groupSamples: Record<BenchmarkGroup, number[]> = { math: [], other: [], non: [] };
  let undefinedOther = 0;
  let undefinedNon = 0;
  const undefinedGroups: Record<BenchmarkGroup, number> = { math: 0, other: 0, non: 0 };
  for (let replicate = 0; replicate < resamples; replicate++) {
    const model: Record<string, number> = {};
    const base: Record<string, number> = {};
    paired.forEach((entry, b) => {
      const indices = buffers[b]!;
      const random = streams[b]!;
      const n = entry.itemIds.length;
      for (let i = 0; i < n; i++) indices[i] = random.nextBelow(n);
      model[entry.benchmark] = mean(entry.model, indices);
      base[entry.benchmark] = mean(entry.base, indices);
      deltaSamples[b]!.push(model[entry.benchmark]! - base[entry.benchmark]!);
    });
    const result = transferabilityIndex(model, base, groups, options);
    if (result.tiOther === null) undefinedOther++;
    else tiOther.push(result.tiOther);
    if (result.tiNon === null) undefinedNon++;
    else tiNon.push(result.tiNon);
    for (const group of ['math', 'other', 'non'] as const) {
      const value = result.groups[group].index;
      if (value === null) undefinedGroups[group]++;
      else groupSamples[group].push(value);
    }
  }
  return {
    point,
    deltas: paired.map((entry, b) => {
      const modelScore = mean(entry.model);
      const baseScore = mean(entry.base);
      return {
        benchmark: entry.benchmark,
        items: entry.itemIds.length,
        model: modelScore,
        base: baseScore,
        ...interval(modelScore - baseScore, deltaSamples[b]!, 0, confidence),
      };
    }),
    tiOther: interval(point.tiOther, tiOther, undefinedOther, confidence),
    tiNon: interval(point.tiNon, tiNon, undefinedNon, confidence),
    groupIndex: {
      math: interval(point.groups.math.index, groupSamples.math, undefinedGroups.math, confidence),
      other: interval(point.groups.other.index, groupSamples.other, undefinedGroups.other, confidence),
      non: interval(point.groups.non.index, groupSamples.non, undefinedGroups.non, confidence),
    },
    resamples,
    seed,
    confidence,
  };
}
