import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.js';
import { gemmFmaWasmBase64, gemmWasmBase64 } from './gemm-wasm.generated.js';
import { jsMatmul } from './matmul.js';
import { wasmApi, wasmKernel, wasmMatmul, wasmSimdAvailable } from './wasm-matmul.js';

/** Run one generated GEMM module on C[4,8] += A[4,1]·B[1,8] (row-major A, B one panel of 8). */
function gemmOnce(base64: string, a: number, b: number, c: number): number {
  const memory = new wasmApi.Memory({ initial: 1, maximum: 16, shared: true });
  const { gemm } = new wasmApi.Instance(new wasmApi.Module(Buffer.from(base64, 'base64')), {
    env: { memory },
  }).exports as { gemm: (...args: number[]) => void };
  const heap = new Float32Array(memory.buffer);
  heap.fill(a, 0, 4);
  heap.fill(b, 16, 24);
  heap.fill(c, 32, 64);
  gemm(0, 64, 128, 4, 1, 8, 16, 4, 4, 1, 4, 32);
  return heap[32]!;
}

function random(seed: number, length: number): Float32Array {
  const generator = new SeededRandom(seed);
  return Float32Array.from({ length }, () => generator.nextNormal());
}

describe('WebAssembly SIMD matmul', () => {
  it('is available on Node 20, with fused multiply-adds unless XFER_NANO_KERNELS says otherwise', () => {
    expect(wasmSimdAvailable()).toBe(true);
    expect(wasmKernel()).toBe(process.env.XFER_NANO_KERNELS === 'wasm-simd' ? 'wasm-simd' : 'wasm-simd-fma');
  });

  it('fuses the multiply-add in the FMA kernel and rounds twice in the plain one', () => {
    // (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴: the product rounded to float32 loses the 2⁻²⁴, a fused multiply-add
    // keeps it. This machine (x86-64 with FMA3) is one where relaxed_madd fuses.
    const x = 1 + 2 ** -12;
    const c = -(1 + 2 ** -11);
    expect(gemmOnce(gemmWasmBase64, x, x, c)).toBe(0);
    expect(gemmOnce(gemmFmaWasmBase64, x, x, c)).toBe(2 ** -24);
  });

  for (const [m, k, n] of [
    [1, 1, 1],
    [5, 3, 7],
    [4, 8, 8],
    [13, 37, 19],
    [9, 20, 44],
    // row-major B read in place (n a multiple of 8), Aᵀ read in place (m a multiple of 4, few panels)
    [8, 5, 16],
    [16, 33, 24],
    // Aᵀ packed: B wider than the in-place limit
    [12, 7, 136],
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
