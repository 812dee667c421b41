/**
 * engine-nano's seeded generator (weight initialisation, sampling): core's xoshiro128** seeded through
 * splitmix32, so every random choice is reproducible from an integer seed.
 */
export { Xoshiro128 as SeededRandom } from '@xfer/core';
