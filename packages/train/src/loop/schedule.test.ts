import { describe, expect, it } from 'vitest';
import { deriveSeed, epochIndex, permutation } from './random.js';
import { learningRateAt } from './schedule.js';

describe('learning-rate schedules', () => {
  it('warm up linearly then follow a cosine to zero (hand-computed)', () => {
    const schedule = { kind: 'cosine' as const, warmupRatio: 0.1, minLrRatio: 0 };
    // 100 steps, warmup 10: step 0 → 1e-4 (1/10 of peak 1e-3), step 9 → 1e-3.
    expect(learningRateAt(schedule, 1e-3, 0, 100)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt(schedule, 1e-3, 9, 100)).toBeCloseTo(1e-3, 15);
    // Halfway through the 90 decay steps (step 55): 0.5·(1 + cos(π/2)) = 0.5.
    expect(learningRateAt(schedule, 1e-3, 55, 100)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(schedule, 1e-3, 100, 100)).toBeCloseTo(0, 15);
  });

  it('stay constant after a fixed warmup (RL: 10 steps)', () => {
    const schedule = { kind: 'constant' as const, warmupSteps: 10, minLrRatio: 0 };
    expect(learningRateAt(schedule, 1e-6, 4, 140)).toBeCloseTo(5e-7, 20);
    expect(learningRateAt(schedule, 1e-6, 139, 140)).toBe(1e-6);
  });
});

describe('seeded data order', () => {
  it('is a permutation, stable for a seed, different across seeds', () => {
    const order = permutation(50, 7);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(permutation(50, 7)).toEqual(order);
    expect(permutation(50, 8)).not.toEqual(order);
  });

  it('covers each epoch exactly once and reshuffles the next', () => {
    const first = Array.from({ length: 10 }, (_, p) => epochIndex(10, 1, p));
    const second = Array.from({ length: 10 }, (_, p) => epochIndex(10, 1, p + 10));
    expect(new Set(first).size).toBe(10);
    expect(new Set(second).size).toBe(10);
    expect(second).not.toEqual(first);
    expect(deriveSeed(1, 'a', 2)).toBe(deriveSeed(1, 'a', 2));
    expect(deriveSeed(1, 'a', 2)).not.toBe(deriveSeed(1, 'a', 3));
  });
});
