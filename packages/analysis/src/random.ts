/**
 * Seeded randomness for the analyses: every random choice (a bootstrap resample) derives its stream from the
 * run seed and a name (the benchmark id), so the same inputs give the same numbers on every machine.
 *
 * @module
 */

import { fnv1a32, Xoshiro128 } from '@xfer/core';

/** FNV-1a over the UTF-16 code units of `text` (from core). */
export const hashString = fnv1a32;

/**
 * A seeded generator (core's xoshiro128**) whose stream is named: `new SeededRandom(seed, 'math-500')` and
 * `new SeededRandom(seed, 'gpqa')` are independent streams under the same run seed.
 */
export class SeededRandom extends Xoshiro128 {
  /** `seed` is any integer; `stream` names an independent stream under that seed (e.g. a benchmark id). */
  constructor(seed: number, stream = '') {
    super((Math.trunc(seed) ^ hashString(stream)) >>> 0);
  }
}
