import type { NanoDtype } from '../model.js';
import { jsMatmul, type MatmulBackend } from './matmul.js';
import { wasmMatmul, wasmSimdAvailable, wasmThreads } from './wasm-matmul.js';

let float32Backend: MatmulBackend | undefined;

/** The float32 backend, chosen (and the WASM module and its helper thread started) on first use. */
function float32(): MatmulBackend {
  float32Backend ??= process.env.XFER_NANO_KERNELS !== 'js' && wasmSimdAvailable() ? wasmMatmul : jsMatmul;
  return float32Backend;
}

/** The matmul backend for a precision: WebAssembly SIMD for float32 when available, plain JS for float64. */
export function backendFor(dtype: NanoDtype): MatmulBackend {
  return dtype === 'float64' ? jsMatmul : float32();
}

/**
 * Replace the float32 backend (tests compare backends). `XFER_NANO_KERNELS=js` forces plain JS,
 * `XFER_NANO_KERNELS=wasm-simd` the WebAssembly kernel without fused multiply-adds.
 */
export function setFloat32Backend(backend: MatmulBackend): void {
  float32Backend = backend;
}

/** Which kernels and how many threads engine-nano computes with (for benchmarks and logs). */
export function nanoComputeInfo(): { kernels: string; threads: number } {
  const backend = float32();
  return { kernels: backend.name, threads: backend === wasmMatmul ? wasmThreads() : 1 };
}
