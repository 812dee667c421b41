import { createHash } from 'node:crypto';
import {
  type BenchmarkGroup,
  type BenchmarkItem,
  type ChatMessage,
  canonicalJson,
  type SamplingParamsInput,
  type Verdict,
} from '@xfer/core';
import type { HubFile, HubOptions } from '../data/hub.js';
import type { Scorer } from '../scorers/types.js';

/** One way a benchmark's data can be read. */
export interface SourceFormat {
  /** `local` (files as in `../shared/benchmarks`), `hub` (Hugging Face), or a named official format. */
  id: string;
  description: string;
  /** Paths relative to the data directory (local formats). */
  files?: readonly string[];
  /** Hub files (hub formats). */
  hub?: readonly HubFile[];
}

/** Options for `Benchmark.load`. */
export interface LoadOptions {
  /** Root of the benchmark folders; default `$XFER_DATA_DIR` or `../shared/benchmarks`. */
  dataDir?: string;
  /** `local` (default) or `hub`. */
  source?: 'local' | 'hub';
  /** Explicit files to read instead of the default ones (same format as the benchmark's local source). */
  files?: readonly string[];
  /** Benchmark-specific split (`dev`/`test` for ACPBench, `test`/`dev` for HeadQA and MC-TACO). */
  split?: string;
  /** Benchmark-specific variant (a protocol choice, e.g. GPQA `paper` or `per-item` shuffle). */
  variant?: string;
  /** Hub download settings. */
  hub?: HubOptions;
  /** Keep only the first n items (in file order). */
  limit?: number;
  /** Seed for any random choice a loader makes (HaluEval coin flips, per-item shuffles). */
  seed?: number;
}

export interface PromptOptions {
  /** Qwen3-style thinking switch; the prompt text may depend on it. */
  enableThinking: boolean;
}

/** The paper's decoding for a benchmark. */
export interface DecodingDefaults {
  sampling: SamplingParamsInput;
  /** Samples (repeats) per item; pass@1 is averaged over them. */
  samples: number;
  /** How each repeat's seed derives from the run seed (evalchemy: seed + repeat index). */
  seedPerSample: 'run-seed-plus-index' | 'fixed';
}

/** A verdict set for one sample of one item, as aggregation sees it. */
export interface BenchmarkSample {
  item: BenchmarkItem;
  sampleIndex: number;
  /** Primary verdict first, then the extra scorers' verdicts. */
  verdicts: readonly Verdict[];
}

/** Multiple-choice structure, for answer-position-bias checks. */
export interface MultipleChoiceLayout {
  /** Position labels in order (`A`..`D`, or `no`/`yes`). */
  labels: readonly string[];
  /** The 0-based gold position of an item. */
  goldPosition(item: BenchmarkItem): number;
  /** The 0-based predicted position from a verdict's `extracted`, or undefined when unparseable. */
  predictedPosition?(extracted: string | null): number | undefined;
}

/** Everything the registry knows about one benchmark. */
export interface Benchmark {
  readonly id: string;
  readonly title: string;
  readonly group: BenchmarkGroup;
  readonly kind: 'generative' | 'loglikelihood';
  /** `<id>@<hash>`: changes when the prompt, extraction, metric, decoding or any scorer version changes. */
  readonly version: string;
  readonly sources: readonly SourceFormat[];
  readonly decoding: DecodingDefaults;
  /** Scorers; `primary` is the protocol's, `extra` are reported beside it. */
  readonly scorers: { readonly primary: Scorer; readonly extra: readonly Scorer[] };
  /** The metric names `aggregate` reports; the first is the headline. */
  readonly metrics: readonly string[];
  readonly multipleChoice?: MultipleChoiceLayout;
  load(options?: LoadOptions): Promise<BenchmarkItem[]>;
  /** Chat messages for one item (few-shot turns included where the protocol has them). */
  prompt(item: BenchmarkItem, options: PromptOptions): ChatMessage[];
  /** Log-likelihood benchmarks: the continuation scored after the rendered prompt, one per choice. */
  continuations?(item: BenchmarkItem): string[];
  aggregate(samples: readonly BenchmarkSample[]): Record<string, number>;
}

/** What a benchmark definition states; `defineBenchmark` derives the version from it. */
export interface BenchmarkSpec extends Omit<Benchmark, 'version'> {
  /** Bump when the prompt text or its construction changes. */
  promptVersion: string;
  /** A short statement of the extraction and metric, hashed into the version. */
  protocol: string;
}

/** Hash the parts of a benchmark that move a score into its version string. */
export function benchmarkVersion(spec: BenchmarkSpec): string {
  const scorerVersions = [spec.scorers.primary, ...spec.scorers.extra].map(
    (scorer) => `${scorer.name}@${scorer.version}`,
  );
  const hash = createHash('sha256')
    .update(
      canonicalJson({
        id: spec.id,
        prompt: spec.promptVersion,
        protocol: spec.protocol,
        metrics: spec.metrics,
        decoding: spec.decoding,
        scorers: scorerVersions,
      }),
    )
    .digest('hex');
  return `${spec.id}@${hash.slice(0, 12)}`;
}

/** Turn a spec into a Benchmark with its version. */
export function defineBenchmark(spec: BenchmarkSpec): Benchmark {
  const { promptVersion: _promptVersion, protocol: _protocol, ...rest } = spec;
  return { ...rest, version: benchmarkVersion(spec) };
}

/** Mean of a boolean/number list (0 for an empty list). */
export function meanOf(values: readonly (number | boolean)[]): number {
  if (values.length === 0) return 0;
  let total = 0;
  for (const value of values) total += Number(value);
  return total / values.length;
}

/** The verdict of a named grader in a sample (the primary when no name is given). */
export function verdictOf(sample: BenchmarkSample, grader?: string): Verdict | undefined {
  return grader === undefined
    ? sample.verdicts[0]
    : sample.verdicts.find((verdict) => verdict.grader === grader);
}

/** Accuracy of the primary verdicts, plus `<grader>_accuracy` for every extra grader present. */
export function accuracyMetrics(samples: readonly BenchmarkSample[]): Record<string, number> {
  const metrics: Record<string, number> = {
    accuracy: meanOf(samples.map((sample) => sample.verdicts[0]?.correct ?? false)),
  };
  const extraGraders = new Set(
    samples.flatMap((sample) => sample.verdicts.slice(1).map((verdict) => verdict.grader)),
  );
  for (const grader of extraGraders) {
    metrics[`${grader}_accuracy`] = meanOf(
      samples.map((sample) => verdictOf(sample, grader)?.correct ?? false),
    );
  }
  metrics.truncated = meanOf(samples.map((sample) => sample.verdicts[0]?.details.truncated === true));
  return metrics;
}

/** Apply `limit` to loaded items. */
export function applyLimit<T>(items: T[], limit: number | undefined): T[] {
  return limit === undefined ? items : items.slice(0, limit);
}
