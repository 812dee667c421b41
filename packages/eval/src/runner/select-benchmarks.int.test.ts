import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { loadBenchmarks, selectBenchmarks } from './select-benchmarks.js';

describe('selectBenchmarks / loadBenchmarks', () => {
  it('expands nano-suite and groups, drops duplicates, keeps group order', () => {
    const all = selectBenchmarks('nano-suite', { limit: 2 });
    expect(all).toHaveLength(12);
    const math = selectBenchmarks('math,nano-arithmetic', { limit: 2 });
    expect(math.map((b) => b.group)).toEqual(math.map(() => 'math'));
    expect(new Set(math.map((b) => b.id)).size).toBe(math.length);
    expect(() => selectBenchmarks('mmlu')).toThrow(ValidationError);
  });

  it('loads paper benchmarks from the real data files, with the protocol’s continuations', async () => {
    const benchmarks = await loadBenchmarks('math-500,headqa', { limit: 3 });
    expect(benchmarks.map((b) => [b.id, b.group, b.kind, b.items.length])).toEqual([
      ['math-500', 'math', 'generative', 3],
      ['headqa', 'other', 'loglikelihood', 3],
    ]);
    const headqa = benchmarks[1]!;
    const continuations = headqa.continuations!(headqa.items[0]!);
    expect(continuations.length).toBe(headqa.items[0]!.choices!.length);
    expect(continuations.every((text) => text.startsWith(' '))).toBe(true);
    expect(benchmarks[0]!.messages(benchmarks[0]!.items[0]!)[0]!.content.length).toBeGreaterThan(10);
    const paperMath = await loadBenchmarks('math', { suite: 'paper', limit: 1 });
    expect(paperMath.map((b) => b.id)).toEqual(['math-500', 'aime24', 'aime25', 'olympiadbench']);
    // the paper's repeats: AIME averaged over 10 samples, MATH-500 one
    expect(paperMath.map((b) => b.samples)).toEqual([1, 10, 10, 1]);
  });
});
