import { SamplingParamsSchema } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';
import { sampleToken } from './sampler.js';

const probabilities = [0.5, 0.25, 0.15, 0.07, 0.03];
const logprobs = Float64Array.from(probabilities, Math.log);

function frequencies(sampling: Parameters<typeof SamplingParamsSchema.parse>[0], draws = 20000): number[] {
  const parsed = SamplingParamsSchema.parse(sampling);
  const random = new SeededRandom(123);
  const counts = probabilities.map(() => 0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logprobs, parsed, random, probabilities.length)]!++;
  return counts.map((count) => count / draws);
}

describe('sampleToken', () => {
  it('samples the model distribution at temperature 1', () => {
    frequencies({ temperature: 1 }).forEach((frequency, j) => {
      expect(Math.abs(frequency - probabilities[j]!)).toBeLessThan(0.015);
    });
  });

  it('sharpens with temperature, truncates with top-k and top-p', () => {
    const cold = frequencies({ temperature: 0.5 });
    const squared = probabilities.map((p) => p * p);
    const total = squared.reduce((a, b) => a + b, 0);
    cold.forEach((frequency, j) => {
      expect(Math.abs(frequency - squared[j]! / total)).toBeLessThan(0.015);
    });
    const topTwo = frequencies({ temperature: 1, topK: 2 });
    expect(topTwo[0]! + topTwo[1]!).toBe(1);
    expect(Math.abs(topTwo[0]! - 2 / 3)).toBeLessThan(0.015);
    // top-p 0.8 keeps the smallest prefix reaching 0.8: tokens 0, 1, 2 (0.5 + 0.25 + 0.15 = 0.9)
    const nucleus = frequencies({ temperature: 1, topP: 0.8 });
    expect(nucleus[3]).toBe(0);
    expect(nucleus[4]).toBe(0);
    expect(Math.abs(nucleus[2]! - 0.15 / 0.9)).toBeLessThan(0.015);
  });

  it('is greedy at temperature 0 and reproducible from a seed', () => {
    expect(frequencies({ temperature: 0 }, 100)[0]).toBe(1);
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      const parsed = SamplingParamsSchema.parse({ temperature: 1 });
      return Array.from({ length: 50 }, () => sampleToken(logprobs, parsed, random, 5));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });
});
