/**
 * GFLOP/s of the two generated GEMM modules (plain and fused multiply-add) on one core, side by side, for a
 * few product shapes: `tsx packages/engine-nano/scripts/kernels.ts`. Row-major A, packed B (the layout the
 * engine's weight products use); best of 3 timed rounds, alternating the kernels.
 */
import { setFlagsFromString } from 'node:v8';
import { gemmFmaWasmBase64, gemmWasmBase64 } from '../src/kernels/gemm-wasm.generated.js';
import { wasmApi } from '../src/kernels/wasm-matmul.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
type Gemm = (...args: number[]) => void;
const memory = new wasmApi.Memory({ initial: 2000, maximum: 16384, shared: true });
const heap = new Float32Array(memory.buffer);
for (let i = 0; i < 3_000_000; i++) heap[i] = Math.sin(i);
const kernels = Object.entries({ 'wasm-simd': gemmWasmBase64, 'wasm-simd-fma': gemmFmaWasmBase64 }).map(
  ([name, base64]) => {
    const module = new wasmApi.Module(Buffer.from(base64, 'base64'));
    const { gemm } = new wasmApi.Instance(module, { env: { memory } }).exports as { gemm: Gemm };
    return { name, gemm };
  },
);
const shapes: [number, number, number][] = [
  [256, 256, 256],
  [2048, 256, 768],
  [2048, 768, 256],
  [1664, 64, 192],
];
for (const [m, k, n] of shapes) {
  const a = 0;
  const b = m * k * 4;
  const c = b + k * n * 4;
  const repeats = Math.max(1, Math.round(2e9 / (m * k * n)));
  const best = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    for (const { name, gemm } of kernels) {
      gemm(a, b, c, m, k, n, k * 16, k * 4, 4, 0, k * 4, 32);
      const started = performance.now();
      for (let r = 0; r < repeats; r++) gemm(a, b, c, m, k, n, k * 16, k * 4, 4, 0, k * 4, 32);
      const gflops = (2 * m * k * n * repeats) / ((performance.now() - started) * 1e6);
      best.set(name, Math.max(best.get(name) ?? 0, gflops));
    }
  }
  const figures = [...best].map(([name, gflops]) => `${name} ${gflops.toFixed(1)}`).join('  ');
  process.stdout.write(`${m}x${k}x${n}: ${figures} GFLOP/s\n`);
}
