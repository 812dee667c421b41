import { createHash } from 'node:crypto';

/** A 32-bit seed derived from a root seed and a path of labels, stable across runs, resumes and machines. */
export function deriveSeed(seed: number, ...path: (string | number)[]): number {
  const digest = createHash('sha256')
    .update(`${seed}\u0000${path.join('\u0000')}`)
    .digest();
  return digest.readUInt32LE(0);
}

import { mulberry32 } from '@xfer/core';

export { mulberry32 };

/** A seeded Fisher–Yates permutation of 0..n−1. */
export function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, index) => index);
  const random = mulberry32(seed);
  for (let index = n - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other]!, order[index]!];
  }
  return order;
}

/**
 * The data index at global position `position` of an endless stream of epochs, each a fresh seeded
 * permutation: a pure function of (seed, position), so a resumed run sees exactly the same batches.
 */
export function epochIndex(
  size: number,
  seed: number,
  position: number,
  cache = new Map<number, number[]>(),
): number {
  const epoch = Math.floor(position / size);
  let order = cache.get(epoch);
  if (!order) {
    order = permutation(size, deriveSeed(seed, 'epoch', epoch));
    cache.set(epoch, order);
  }
  return order[position % size]!;
}
