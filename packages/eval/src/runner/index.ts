export {
  assertComparable,
  type ComparabilityOptions,
  type RunDifference,
  runDifferences,
} from './comparability.js';
export {
  type BenchmarkSummary,
  bootstrapMeans,
  type Estimate,
  type EvalSummary,
  type GroupSummary,
  mean,
  passAtK,
  quantile,
  type ScoredSample,
  type SummarizeOptions,
  summarize,
} from './metrics.js';
export {
  benchmarkItemsHash,
  benchmarkSampling,
  type PlannedRequest,
  plainRenderer,
  planRequests,
  type RunHashes,
  runHashes,
  samplesFor,
} from './plan.js';
export { ProgressTracker } from './progress.js';
export { formatResultsTable, type RunSummary, summarizeRun } from './results.js';
export {
  type RunEvaluationOptions,
  type RunEvaluationResult,
  rendererFor,
  runEvaluation,
} from './run-evaluation.js';
export { sampleSeed } from './seeds.js';
export { type LoadBenchmarksOptions, loadBenchmarks, selectBenchmarks } from './select-benchmarks.js';
export type { EvalBenchmark, EvalProgress, EvalSettingsInput, PromptRenderer } from './types.js';
