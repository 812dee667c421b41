/**
 * TI with paired bootstrap intervals straight from the experiment store: two evaluation runs (a tuned model
 * and its base) over the same items and seeds.
 *
 * @module
 */
import { type BenchmarkGroup, canonicalJson, ValidationError, XferError } from '@xfer/core';
import type { AnalysisRecord, EvalRunRecord, Store } from '@xfer/store';
import {
  type BootstrapOptions,
  type PairedTiResult,
  pairedBootstrapTi,
  pairSamples,
} from './paired-bootstrap.js';
import { paperBenchmarkGroups } from './ti.js';

export interface StoreTiOptions extends BootstrapOptions {
  modelRunId: string;
  baseRunId: string;
  /** Benchmark groups that override the store's benchmark records (and the paper's ids). */
  groups?: Readonly<Record<string, BenchmarkGroup>>;
  /** Which grader's verdict scores a sample (default: each sample's first verdict). */
  grader?: string;
  /** Store the result as an analysis of kind `ti` (default false). */
  save?: boolean;
  experimentId?: string | null;
}

export interface StoreTiResult extends PairedTiResult {
  modelRunId: string;
  baseRunId: string;
  /** Benchmarks that only one run evaluated (not in the TI). */
  unpaired: string[];
  /** The stored analysis, when `save` was set. */
  analysis?: AnalysisRecord;
}

function checkComparable(model: EvalRunRecord, base: EvalRunRecord, benchmarks: readonly string[]): void {
  const fail = (field: string, modelValue: unknown, baseValue: unknown) => {
    throw new XferError({
      code: 'INCOMPARABLE_RUNS',
      message: `runs ${model.id} and ${base.id} differ in ${field} (${canonicalJson(modelValue)} vs ${canonicalJson(baseValue)}): paired statistics need the same settings`,
      data: { field, modelRunId: model.id, baseRunId: base.id },
    });
  };
  if (model.samplingHash !== base.samplingHash) fail('samplingHash', model.samplingHash, base.samplingHash);
  if (model.settings.seed !== base.settings.seed)
    fail('settings.seed', model.settings.seed, base.settings.seed);
  if (canonicalJson(model.scorerVersions) !== canonicalJson(base.scorerVersions)) {
    fail('scorerVersions', model.scorerVersions, base.scorerVersions);
  }
  for (const benchmark of benchmarks) {
    const a = model.benchmarkHashes[benchmark];
    const b = base.benchmarkHashes[benchmark];
    if (a !== undefined && b !== undefined && a !== b) fail(`benchmarkHashes.${benchmark}`, a, b);
  }
}

/**
 * Pair the two runs' samples, check that the runs are comparable (sampling, seed, scorer versions, item
 * hashes), and bootstrap the TI. Groups come from `options.groups`, then the store's benchmark records, then
 * the paper's ids; a benchmark with none is a ValidationError.
 */
export function storeTransferability(store: Store, options: StoreTiOptions): StoreTiResult {
  const modelRun = store.evalRuns.require(options.modelRunId);
  const baseRun = store.evalRuns.require(options.baseRunId);
  // the runs must share scorer versions (checked below); only verdicts of those versions count
  const { benchmarks, unpaired } = pairSamples(
    store.samples.listRunSamples(modelRun.id),
    store.samples.listRunSamples(baseRun.id),
    {
      ...(options.grader === undefined ? {} : { grader: options.grader }),
      ...(Object.keys(modelRun.scorerVersions).length === 0
        ? {}
        : { graderVersions: modelRun.scorerVersions }),
    },
  );
  if (benchmarks.length === 0) {
    throw new XferError({
      code: 'INCOMPARABLE_RUNS',
      message: `runs ${modelRun.id} and ${baseRun.id} share no scored benchmark`,
    });
  }
  checkComparable(
    modelRun,
    baseRun,
    benchmarks.map((entry) => entry.benchmark),
  );
  const groups: Record<string, BenchmarkGroup> = {};
  for (const { benchmark } of benchmarks) {
    const group =
      options.groups?.[benchmark] ??
      store.benchmarks.get(benchmark)?.group ??
      paperBenchmarkGroups[benchmark];
    if (group === undefined) {
      throw new ValidationError({
        field: benchmark,
        message: `benchmark '${benchmark}' has no group in the store`,
      });
    }
    groups[benchmark] = group;
  }
  const result = pairedBootstrapTi(benchmarks, groups, options);
  const output: StoreTiResult = { ...result, modelRunId: modelRun.id, baseRunId: baseRun.id, unpaired };
  if (options.save) {
    output.analysis = store.analyses.create({
      experimentId: options.experimentId ?? modelRun.experimentId,
      kind: 'ti',
      inputs: {
        modelRunId: modelRun.id,
        baseRunId: baseRun.id,
        formula: options.formula,
        resamples: result.resamples,
        seed: result.seed,
        confidence: result.confidence,
        groups,
      },
      result: JSON.parse(JSON.stringify(result)) as Record<string, unknown>,
    });
  }
  return output;
}
