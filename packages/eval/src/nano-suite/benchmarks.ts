import { createHash } from 'node:crypto';
import { canonicalJson } from '@xfer/core';
import type { EvalBenchmark } from '../runner/types.js';
import { getNanoTask, type NanoItemsOptions, nanoItems, nanoTasks } from './suite.js';
import type { NanoTask } from './types.js';

/** Items per task in the standard nano-suite evaluation. */
export const NANO_EVAL_ITEMS = 200;

/** Bump when any generator, prompt or answer style changes (it moves every nano score). */
export const NANO_SUITE_VERSION = '6';

export interface NanoBenchmarkOptions {
  /** Items per task (default 200). */
  limit?: number;
  /** `eval` (default) or `train`. */
  split?: NanoItemsOptions['split'];
  /** Seed of the item draw (default 0: the standard evaluation set). */
  seed?: number;
}

/** A nano task as the evaluation runner sees it: items, chat messages, scorer and decoding defaults. */
export function nanoEvalBenchmark(task: NanoTask, options: NanoBenchmarkOptions = {}): EvalBenchmark {
  const split = options.split ?? 'eval';
  const count = options.limit ?? NANO_EVAL_ITEMS;
  const seed = options.seed ?? 0;
  const items = nanoItems(task, { split, count, seed });
  const version = createHash('sha256')
    .update(
      canonicalJson({
        suite: NANO_SUITE_VERSION,
        id: task.id,
        prompt: task.promptTemplate,
        metric: task.metric,
        scorer: `${task.scorer.name}@${task.scorer.version}`,
        maxTokens: task.maxTokens,
      }),
    )
    .digest('hex')
    .slice(0, 12);
  return {
    id: task.id,
    version: `${task.id}@${version}`,
    group: task.group,
    kind: task.kind,
    items,
    messages: (item) => [{ role: 'user', content: task.prompt(item) }],
    scorer: task.scorer,
    ...(task.kind === 'generative' ? { sampling: { temperature: 0, maxTokens: task.maxTokens } } : {}),
    source: `nano-suite v${NANO_SUITE_VERSION} (${split}, seed ${seed}, ${count} items)`,
  };
}

/**
 * Runner benchmarks for `ids` (`nano-suite` expands to all twelve; default all twelve), in group order.
 * Unknown ids throw a ValidationError naming the `benchmark` field.
 */
export function nanoSuiteBenchmarks(
  ids: readonly string[] = ['nano-suite'],
  options: NanoBenchmarkOptions = {},
): EvalBenchmark[] {
  const wanted = ids.flatMap((id) =>
    id === 'nano-suite' ? nanoTasks.map((task) => task.id) : [getNanoTask(id).id],
  );
  return nanoTasks.filter((task) => wanted.includes(task.id)).map((task) => nanoEvalBenchmark(task, options));
}
