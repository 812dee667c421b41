import type { BenchmarkGroup, BenchmarkItem } from '@xfer/core';
import { ValidationError } from '@xfer/core';
import { hashString, Random } from './random.js';
import { mathTasks } from './tasks/math.js';
import { nonTasks } from './tasks/non.js';
import { otherTasks } from './tasks/other.js';
import type { NanoSplit, NanoTask } from './types.js';

/** The twelve nano-suite tasks in the paper's group order (math, other reasoning, non-reasoning). */
export const nanoTasks: readonly NanoTask[] = [...mathTasks, ...otherTasks, ...nonTasks];

/** The benchmark-set id that names all twelve. */
export const NANO_SUITE_ID = 'nano-suite';

/** Look a task up by id; throws a ValidationError naming the field for an unknown id. */
export function getNanoTask(id: string): NanoTask {
  const task = nanoTasks.find((candidate) => candidate.id === id);
  if (!task) {
    throw new ValidationError({
      field: 'benchmark',
      message: `unknown nano task "${id}" (known: ${nanoTasks.map((t) => t.id).join(', ')})`,
    });
  }
  return task;
}

/** The nano tasks of one group. */
export function nanoTasksOfGroup(group: BenchmarkGroup): NanoTask[] {
  return nanoTasks.filter((task) => task.group === group);
}

/** One item in five is an evaluation item, decided by the hash of its task and canonical content alone. */
export function splitOfKey(taskId: string, key: string): NanoSplit {
  return hashString(`${taskId}\u0000${key}`) % 5 === 0 ? 'eval' : 'train';
}

function itemId(taskId: string, key: string): string {
  const high = hashString(key).toString(16).padStart(8, '0');
  const low = hashString(`#${key}`).toString(16).padStart(8, '0');
  return `${taskId}-${high}${low}`;
}

export interface NanoItemsOptions {
  split: NanoSplit;
  count: number;
  /** Seed of the draw; the evaluation set is the draw with seed 0. Defaults to 0. */
  seed?: number;
  /** Return fewer items when the task's space holds fewer than `count` (instead of throwing). */
  allowFewer?: boolean;
}

/**
 * Draw `count` distinct items of one split. The split of an item depends only on its content, so train and
 * eval items never overlap whatever the seeds; the same seed always gives the same items in the same order.
 */
export function nanoItems(task: NanoTask, options: NanoItemsOptions): BenchmarkItem[] {
  const random = Random.derive(options.seed ?? 0, `${task.id}/${options.split}`);
  const seen = new Set<string>();
  const items: BenchmarkItem[] = [];
  // Give up after this many draws in a row that found nothing new: the split's space is exhausted.
  const patience = 20_000;
  for (let misses = 0; misses < patience && items.length < options.count; ) {
    const draft = task.draft(random);
    if (seen.has(draft.key) || splitOfKey(task.id, draft.splitKey ?? draft.key) !== options.split) {
      misses++;
      continue;
    }
    misses = 0;
    seen.add(draft.key);
    items.push({
      id: itemId(task.id, draft.key),
      benchmark: task.id,
      input: draft.input,
      target: draft.target,
      ...(draft.choices ? { choices: draft.choices } : {}),
      meta: { ...draft.meta, split: options.split, group: task.group, mirrors: task.mirrors },
    });
  }
  if (items.length < options.count && !options.allowFewer) {
    throw new ValidationError({
      field: 'count',
      message: `${task.id} has only ${items.length} distinct ${options.split} items reachable, ${options.count} asked`,
    });
  }
  return items;
}
