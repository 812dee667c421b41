import { type BenchmarkItem, type ChatMessage, ValidationError } from '@xfer/core';
import type { EvalBenchmark, GenerativeScorer, PromptRenderer } from '@xfer/eval';
import { nanoEvalBenchmark, nanoTasksOfGroup } from '@xfer/eval';
import type { TrainTask } from '@xfer/train';

/**
 * The math-only training task from benchmarks' train splits: prompts rendered through the policy's chat
 * template; rewards from each benchmark's own evaluation scorer (imported, never re-implemented).
 */
export function mathTrainTask(benchmarks: readonly EvalBenchmark[], renderer: PromptRenderer): TrainTask {
  const byBenchmark = new Map(benchmarks.map((benchmark) => [benchmark.id, benchmark]));
  const items: BenchmarkItem[] = benchmarks.flatMap((benchmark) => [...benchmark.items]);
  const benchmarkOf = (item: BenchmarkItem): EvalBenchmark => {
    const benchmark = byBenchmark.get(item.benchmark);
    if (!benchmark)
      throw new ValidationError({
        field: 'item.benchmark',
        message: `no benchmark ${item.benchmark} in the training task`,
      });
    return benchmark;
  };
  for (const benchmark of benchmarks) {
    if (benchmark.scorer.kind !== 'generative') {
      throw new ValidationError({
        field: 'benchmarks',
        message: `${benchmark.id} is not generative; RL and SFT need a verifiable answer`,
      });
    }
  }
  const scorer: GenerativeScorer = {
    kind: 'generative',
    name: 'per-benchmark',
    version: benchmarks.map((b) => `${b.id}:${b.scorer.name}@${b.scorer.version}`).join(','),
    score: (input) => (benchmarkOf(input.item).scorer as GenerativeScorer).score(input),
  };
  const messages = (item: BenchmarkItem): ChatMessage[] => benchmarkOf(item).messages(item);
  return {
    items,
    scorer,
    renderPrompt: (item, options) => renderer.render(messages(item), options),
    endOfTurn: '<|im_end|>',
    stop: ['<|im_end|>'],
  };
}

/** The nano-suite's math group, train split: `perTask` items of each math task, drawn with `seed`. */
export function nanoMathTrainBenchmarks(perTask: number, seed: number): EvalBenchmark[] {
  return nanoTasksOfGroup('math').map((task) =>
    nanoEvalBenchmark(task, { split: 'train', limit: perTask, seed }),
  );
}
