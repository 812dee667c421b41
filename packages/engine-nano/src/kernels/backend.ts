import type { NanoDtype } from '../model.js';
import { jsMatmul, type MatmulBackend } from './matmul.js';
import { wasmMatmul, wasmSimdAvailable, wasmThreads } from './wasm-matmul.js';

let float32Backend: MatmulBackend =
  process.env.XFER_NANO_KERNELS !== 'js' && wasmSimdAvailable() ? wasmMatmul : jsMatmul;

/** The matmul backend for a precision: WebAssembly SIMD for float32 when available, plain JS for float64. */
export function backendFor(dtype: NanoDtype): MatmulBackend {
  return dtype === 'float64' ? jsMatmul : float32Backend;
}

/** Replace the float32 backend (tests compare backends; `XFER_NANO_KERNELS=js` forces plain JS). */
export function setFloat32Backend(backend: MatmulBackend): void {
  float32Backend = backend;
}

/** Which kernels and how many threads engine-nano computes with (for benchmarks and logs). */
export function nanoComputeInfo(): { kernels: string; threads: number } {
  return { kernels: float32Backend.name, threads: float32Backend === wasmMatmul ? wasmThreads() : 1 };
}
