import type { BenchmarkGroup } from '@xfer/core';
import { ValidationError } from '@xfer/core';
import { acpBench, gpqaDiamond, headQa, mcTaco } from '../benchmarks/choice-benchmarks.js';
import { aime24, aime25, math500, olympiadBench } from '../benchmarks/math.js';
import { coqa, haluEval, ifEval, liveCodeBench } from '../benchmarks/text-benchmarks.js';
import type { Benchmark } from './benchmark.js';

/** The paper's 12 benchmarks in table order: math, other reasoning, non-reasoning. */
export const paperBenchmarks: readonly Benchmark[] = [
  math500,
  aime24,
  aime25,
  olympiadBench,
  gpqaDiamond,
  liveCodeBench,
  acpBench,
  headQa,
  coqa,
  ifEval,
  haluEval,
  mcTaco,
];

/**
 * A registry of benchmarks by id. The paper's 12 are registered by default; other suites (the nano-suite)
 * register theirs with `register`.
 */
export class BenchmarkRegistry {
  private readonly byId = new Map<string, Benchmark>();

  constructor(benchmarks: readonly Benchmark[] = paperBenchmarks) {
    for (const benchmark of benchmarks) this.register(benchmark);
  }

  /** Add a benchmark; an id already taken is a ValidationError. */
  register(benchmark: Benchmark): this {
    if (this.byId.has(benchmark.id)) {
      throw new ValidationError({
        code: 'CONFLICT',
        field: 'id',
        message: `benchmark ${benchmark.id} is already registered`,
      });
    }
    this.byId.set(benchmark.id, benchmark);
    return this;
  }

  /** The benchmark with this id; an unknown id is a ValidationError listing the known ones. */
  get(id: string): Benchmark {
    const benchmark = this.byId.get(id);
    if (benchmark === undefined) {
      throw new ValidationError({
        code: 'NOT_FOUND',
        field: 'benchmark',
        message: `unknown benchmark "${id}"; known: ${[...this.byId.keys()].join(', ')}`,
      });
    }
    return benchmark;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  list(group?: BenchmarkGroup): Benchmark[] {
    const all = [...this.byId.values()];
    return group === undefined ? all : all.filter((benchmark) => benchmark.group === group);
  }
}

/** The default registry with the paper's 12 benchmarks. */
export function createPaperRegistry(): BenchmarkRegistry {
  return new BenchmarkRegistry(paperBenchmarks);
}
