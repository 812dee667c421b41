import type { BenchmarkGroup } from '@xfer/core';
import { sampleSeed, seededRandom } from './seeds.js';

/**
 * Unbiased pass@k of one item with `n` samples of which `c` are correct (Chen et al. 2021):
 * 1 - C(n-c, k) / C(n, k), computed as a product so that it never overflows.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (k < 1 || k > n) throw new RangeError(`pass@${k} needs 1 <= k <= n (n = ${n})`);
  if (n - c < k) return 1;
  let miss = 1;
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** A point estimate with a percentile bootstrap confidence interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

/**
 * `replicates` bootstrap means of `values` (resampling items with replacement), seeded.
 */
export function bootstrapMeans(values: readonly number[], replicates: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out = new Array<number>(replicates);
  const n = values.length;
  for (let r = 0; r < replicates; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    out[r] = n === 0 ? Number.NaN : sum / n;
  }
  return out;
}

/** The `q` quantile (0..1) of `values`, linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export function interval(value: number, replicates: readonly number[], level: number): Estimate {
  const tail = (1 - level) / 2;
  return { value, low: quantile(replicates, tail), high: quantile(replicates, 1 - tail) };
}

/** One scored sample, as aggregation needs it. */
export interface ScoredSample {
  benchmark: string;
  itemId: string;
  sampleIndex: number;
  /** Score in [0, 1] from the benchmark's scorer. */
  score: number;
  correct: boolean;
  truncated: boolean;
  completionTokens: number;
}

export interface BenchmarkSummary {
  benchmark: string;
  group: BenchmarkGroup;
  items: number;
  /** Samples per item (the smallest count over items; items with fewer are not expected). */
  samplesPerItem: number;
  samples: number;
  /** Mean over items of the mean score over their samples, with a bootstrap CI over items. */
  pass1: Estimate;
  /** Unbiased pass@k for k = 1, 2, 4, ... up to the samples per item (and k = n). */
  passAtK: Record<string, number>;
  truncationRate: number;
  meanCompletionTokens: number;
}

export interface GroupSummary {
  group: BenchmarkGroup;
  benchmarks: string[];
  /** Macro average of the benchmarks' pass@1, CI from averaging their bootstrap replicates. */
  pass1: Estimate;
}

export interface EvalSummary {
  benchmarks: BenchmarkSummary[];
  groups: GroupSummary[];
  /** Bootstrap settings, so that a summary can be reproduced. */
  bootstrap: { replicates: number; level: number; seed: number };
}

export interface SummarizeOptions {
  /** Bootstrap replicates (default 1000). */
  replicates?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
}

function kValues(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

/**
 * Per-benchmark and per-group results from scored samples: pass@1 averaged over samples, unbiased pass@k,
 * seeded bootstrap CIs over items, truncation rates.
 */
export function summarize(
  samples: readonly ScoredSample[],
  groups: ReadonlyMap<string, BenchmarkGroup>,
  options: SummarizeOptions = {},
): EvalSummary {
  const replicates = options.replicates ?? 1000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 0;
  const byBenchmark = new Map<string, Map<string, ScoredSample[]>>();
  for (const sample of samples) {
    let items = byBenchmark.get(sample.benchmark);
    if (!items) byBenchmark.set(sample.benchmark, (items = new Map()));
    const list = items.get(sample.itemId);
    if (list) list.push(sample);
    else items.set(sample.itemId, [sample]);
  }
  const summaries: BenchmarkSummary[] = [];
  const replicatesByBenchmark = new Map<string, number[]>();
  for (const benchmark of [...byBenchmark.keys()].sort()) {
    const items = byBenchmark.get(benchmark)!;
    const itemIds = [...items.keys()].sort();
    const perItem = itemIds.map((id) => items.get(id)!);
    const itemScores = perItem.map((list) => mean(list.map((sample) => sample.score)));
    const all = perItem.flat();
    const n = Math.min(...perItem.map((list) => list.length));
    const passK: Record<string, number> = {};
    for (const k of kValues(n)) {
      passK[`pass@${k}`] = mean(
        perItem.map((list) => passAtK(list.length, list.filter((s) => s.correct).length, k)),
      );
    }
    const boot = bootstrapMeans(itemScores, replicates, sampleSeed(seed, benchmark, 'bootstrap', 0));
    replicatesByBenchmark.set(benchmark, boot);
    summaries.push({
      benchmark,
      group: groups.get(benchmark) ?? 'other',
      items: itemIds.length,
      samplesPerItem: n,
      samples: all.length,
      pass1: interval(mean(itemScores), boot, level),
      passAtK: passK,
      truncationRate: mean(all.map((sample) => (sample.truncated ? 1 : 0))),
      meanCompletionTokens: mean(all.map((sample) => sample.completionTokens)),
    });
  }
  const groupSummaries: GroupSummary[] = [];
  for (const group of ['math', 'other', 'non'] as const) {
    const members = summaries.filter((summary) => summary.group === group);
    if (members.length === 0) continue;
    const combined = new Array<number>(replicates).fill(0);
    for (const member of members) {
      const boot = replicatesByBenchmark.get(member.benchmark)!;
      for (let r = 0; r < replicates; r++) combined[r]! += boot[r]! / members.length;
    }
    groupSummaries.push({
      group,
      benchmarks: members.map((member) => member.benchmark),
      pass1: interval(mean(members.map((member) => member.pass1.value)), combined, level),
    });
  }
  return { benchmarks: summaries, groups: groupSummaries, bootstrap: { replicates, level, seed } };
}
