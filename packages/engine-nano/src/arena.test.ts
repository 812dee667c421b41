import { describe, expect, it } from 'vitest';
import { allocate, FloatArena, withArena } from './model.js';

describe('FloatArena', () => {
  it('hands out zeroed, disjoint views and reuses them after a reset', () => {
    const arena = new FloatArena();
    const [first, second] = withArena(arena, () => {
      const a = allocate('float32', 5);
      const b = allocate('float32', 3);
      a.fill(7);
      b.fill(9);
      return [a, b];
    });
    expect(Array.from(first!)).toEqual([7, 7, 7, 7, 7]);
    expect(Array.from(second!)).toEqual([9, 9, 9]);
    const again = withArena(arena, () => allocate('float32', 8));
    expect(again.buffer).toBe(first!.buffer);
    expect(Array.from(again)).toEqual(new Array(8).fill(0));
  });

  it('grows past a block and gathers what one call needed into one block', () => {
    const arena = new FloatArena();
    const sizes = [700_000, 700_000, 2_000_000];
    const views = withArena(arena, () => sizes.map((size) => allocate('float32', size)));
    expect(views.map((view) => view.length)).toEqual(sizes);
    expect(new Set(views.map((view) => view.buffer)).size).toBe(3);
    const next = withArena(arena, () => sizes.map((size) => allocate('float32', size)));
    expect(new Set(next.map((view) => view.buffer)).size).toBe(1);
  });

  it('leaves allocations outside an arena, and float64 ones, as fresh arrays', () => {
    const arena = new FloatArena();
    const inside = withArena(arena, () => allocate('float64', 4));
    expect(inside).toBeInstanceOf(Float64Array);
    const outside = allocate('float32', 4);
    const held = withArena(arena, () => allocate('float32', 4));
    expect(outside.buffer).not.toBe(held.buffer);
  });
});
