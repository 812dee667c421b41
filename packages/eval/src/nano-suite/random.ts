/**
 * Seeded randomness for the nano-suite: every random choice comes from a generator derived from a seed and
 * a label, so the same seed gives the same items on every machine.
 */
import { fnv1a32, mulberry32 } from '@xfer/core';

/** 32-bit FNV-1a hash of a string (from core). */
export const hashString = fnv1a32;

/** Mix two 32-bit integers into one (a seed for a derived stream). */
export function mixSeed(seed: number, label: string): number {
  let value = (seed >>> 0) ^ hashString(label);
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
  return (value ^ (value >>> 16)) >>> 0;
}

/** A small, fast, seeded generator (mulberry32) with the helpers the task generators need. */
export class Random {
  private readonly draw: () => number;

  constructor(seed: number) {
    this.draw = mulberry32(seed);
  }

  /** A generator for a named sub-stream: independent of how much of this one was used. */
  static derive(seed: number, label: string): Random {
    return new Random(mixSeed(seed, label));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** Integer in [low, high] inclusive. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** One element, uniformly. */
  pick<T>(values: readonly T[]): T {
    if (values.length === 0) throw new Error('pick from an empty list');
    return values[Math.floor(this.next() * values.length)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(values: readonly T[]): T[] {
    const copy = [...values];
    for (let index = copy.length - 1; index > 0; index--) {
      const other = Math.floor(this.next() * (index + 1));
      [copy[index], copy[other]] = [copy[other]!, copy[index]!];
    }
    return copy;
  }

  /** `count` distinct elements in random order. */
  sample<T>(values: readonly T[], count: number): T[] {
    if (count > values.length) throw new Error(`cannot sample ${count} of ${values.length}`);
    return this.shuffle(values).slice(0, count);
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.next() < probability;
  }
}
