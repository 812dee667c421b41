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

/** mulberry32: a small seeded PRNG for bootstrap resampling. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
