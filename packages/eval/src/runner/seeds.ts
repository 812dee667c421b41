import { createHash } from 'node:crypto';

/**
 * The seed of one sample: derived from the run seed, the benchmark, the item and the sample index only, so
 * that a resumed run, or one with another concurrency or batch size, draws exactly the same samples.
 * A 32-bit unsigned integer (what engines and vLLM accept).
 */
export function sampleSeed(runSeed: number, benchmark: string, itemId: string, sampleIndex: number): number {
  const digest = createHash('sha256')
    .update(`${runSeed}\u0000${benchmark}\u0000${itemId}\u0000${sampleIndex}`)
    .digest();
  return digest.readUInt32BE(0);
}

/** mulberry32 (from core): a small seeded PRNG for bootstrap resampling. */
import { mulberry32 as seededRandom } from '@xfer/core';

export { seededRandom };
