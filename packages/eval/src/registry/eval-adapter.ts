import type { BenchmarkItem, SamplingParams } from '@xfer/core';
import type { EvalBenchmark } from '../runner/types.js';
import type { Benchmark } from './benchmark.js';

/**
 * Adapt a registry benchmark and its loaded items to the runner's `EvalBenchmark`: prompts rendered with the
 * given thinking switch, the primary scorer, and the paper's decoding as sampling defaults. Log-likelihood
 * benchmarks keep `item.choices` as the choice texts; `benchmark.continuations(item)` gives the exact
 * continuations lm-eval scores (a space before each choice).
 */
export function toEvalBenchmark(
  benchmark: Benchmark,
  items: readonly BenchmarkItem[],
  options: { enableThinking?: boolean; source?: string } = {},
): EvalBenchmark {
  const enableThinking = options.enableThinking ?? false;
  return {
    id: benchmark.id,
    version: benchmark.version,
    group: benchmark.group,
    kind: benchmark.kind,
    items,
    messages: (item) => benchmark.prompt(item, { enableThinking }),
    scorer: benchmark.scorers.primary,
    sampling: benchmark.decoding.sampling as Partial<SamplingParams>,
    ...(options.source === undefined ? {} : { source: options.source }),
  };
}
