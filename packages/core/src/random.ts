/**
 * mulberry32: a small, fast seeded PRNG returning floats in [0, 1). Shared by every package that needs a
 * reproducible stream of uniform draws (bootstrap resampling, retry jitter, data order). Pure: no I/O.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
