import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.js';
import { jsMatmul } from './matmul.js';
import { wasmMatmul, wasmSimdAvailable } from './wasm-matmul.js';

function random(seed: number, length: number): Float32Array {
  const generator = new SeededRandom(seed);
  return Float32Array.from({ length }, () => generator.nextNormal());
}

describe('WebAssembly SIMD matmul', () => {
  it('is available on Node 20', () => {
    expect(wasmSimdAvailable()).toBe(true);
  });

  for (const [m, k, n] of [
    [1, 1, 1],
    [5, 3, 7],
    [4, 8, 8],
    [13, 37, 19],
    [9, 20, 44],
  ] as const) {
    it(`matches the JS kernels for nn, nt, tn and accumulation at ${m}x${k}x${n}`, () => {
      const a = random(m * 1000 + k, m * k);
      const bNN = random(2, k * n);
      const bNT = random(3, n * k);
      const aT = random(4, k * m);
      for (const [name, left, right] of [
        ['nn', a, bNN],
        ['nt', a, bNT],
        ['tn', aT, bNN],
      ] as const) {
        const initial = random(5, m * n);
        const expected = Float32Array.from(initial);
        const actual = Float32Array.from(expected);
        jsMatmul[name](left, right, expected, m, k, n, true);
        wasmMatmul[name](left, right, actual, m, k, n, true);
        for (let i = 0; i < m * n; i++)
          expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-4 * Math.sqrt(k));
        const overwritten = new Float32Array(m * n).fill(7);
        wasmMatmul[name](left, right, overwritten, m, k, n);
        for (let i = 0; i < m * n; i++)
          expect(Math.abs(overwritten[i]! + initial[i]! - actual[i]!)).toBeLessThan(1e-4 * Math.sqrt(k));
      }
    });
  }

  it('gives a row the same bits whatever the other rows are', () => {
    const weights = random(9, 40 * 24);
    const rows = random(10, 7 * 24);
    const alone = new Float32Array(40);
    wasmMatmul.nt(rows.subarray(3 * 24, 4 * 24), weights, alone, 1, 24, 40);
    const together = new Float32Array(7 * 40);
    wasmMatmul.nt(rows, weights, together, 7, 24, 40);
    expect(Array.from(together.subarray(3 * 40, 4 * 40))).toEqual(Array.from(alone));
  });
});
