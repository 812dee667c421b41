import { BenchmarkGroupSchema, ValidationError } from '@xfer/core';
import { type NanoBenchmarkOptions, nanoSuiteBenchmarks } from '../nano-suite/benchmarks.js';
import { NANO_SUITE_ID, nanoTasks } from '../nano-suite/suite.js';
import type { EvalBenchmark } from './types.js';

/**
 * Resolve a `--benchmarks` value to runner benchmarks: a comma-separated list of benchmark ids, the set
 * `nano-suite`, or a group (`math`, `other`, `non`) standing for its nano-suite tasks. Duplicates are
 * dropped; the order is the suite's (group order). Unknown names throw a ValidationError naming the field.
 */
export function selectBenchmarks(
  spec: string | readonly string[],
  options: NanoBenchmarkOptions = {},
): EvalBenchmark[] {
  const names = (typeof spec === 'string' ? spec.split(',') : spec)
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new ValidationError({ field: 'benchmarks', message: 'no benchmark given' });
  const ids = new Set<string>();
  for (const name of names) {
    if (name === NANO_SUITE_ID) {
      for (const task of nanoTasks) ids.add(task.id);
    } else if (BenchmarkGroupSchema.safeParse(name).success) {
      for (const task of nanoTasks) if (task.group === name) ids.add(task.id);
    } else if (nanoTasks.some((task) => task.id === name)) {
      ids.add(name);
    } else {
      throw new ValidationError({
        field: 'benchmarks',
        message: `unknown benchmark or group "${name}" (known: ${NANO_SUITE_ID}, math, other, non, ${nanoTasks.map((task) => task.id).join(', ')})`,
      });
    }
  }
  return nanoSuiteBenchmarks([...ids], options);
}

export interface LoadBenchmarksOptions extends NanoBenchmarkOptions {
  /** What a group name (`math`, `other`, `non`) stands for: the nano-suite's tasks or the paper's benchmarks. */
  suite?: 'nano' | 'paper';
  /** Render paper prompts with `enable_thinking` (their text may depend on it). */
  enableThinking?: boolean;
  /** Root of the real benchmark files (default `$XFER_DATA_DIR` or `../shared/benchmarks`). */
  dataDir?: string;
}

/**
 * Like {@link selectBenchmarks}, and also the paper's benchmarks by id (`math-500`, `gpqa-diamond`...), by
 * group with `suite: 'paper'`, or all twelve as `paper`; their items are read from the real data files.
 */
export async function loadBenchmarks(
  spec: string | readonly string[],
  options: LoadBenchmarksOptions = {},
): Promise<EvalBenchmark[]> {
  const { createPaperRegistry } = await import('../registry/registry.js');
  const { toEvalBenchmark } = await import('../registry/eval-adapter.js');
  const registry = createPaperRegistry();
  const names = (typeof spec === 'string' ? spec.split(',') : spec)
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const nano: string[] = [];
  const paper: string[] = [];
  for (const name of names) {
    if (name === 'paper') paper.push(...registry.list().map((benchmark) => benchmark.id));
    else if (registry.has(name)) paper.push(name);
    else if (options.suite === 'paper' && BenchmarkGroupSchema.safeParse(name).success) {
      paper.push(...registry.list(BenchmarkGroupSchema.parse(name)).map((benchmark) => benchmark.id));
    } else nano.push(name);
  }
  const out: EvalBenchmark[] = nano.length > 0 ? selectBenchmarks(nano, options) : [];
  for (const id of [...new Set(paper)]) {
    const benchmark = registry.get(id);
    const items = await benchmark.load({
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    const adapted = toEvalBenchmark(benchmark, items, {
      enableThinking: options.enableThinking ?? false,
      source: `${id} (${items.length} items)`,
    });
    // lm-eval scores the protocol's continuations (a space before each choice), not the bare choice texts.
    const continuations = benchmark.continuations?.bind(benchmark);
    out.push({
      ...adapted,
      samples: benchmark.decoding.samples,
      ...(continuations ? { continuations } : {}),
    });
  }
  return out;
}
