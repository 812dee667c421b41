import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { gemmFmaWasmBase64, gemmWasmBase64 } from './gemm-wasm.generated.js';
import type { FloatArray, MatmulBackend } from './matmul.js';

/** The few WebAssembly APIs used here (the ES2023 lib without DOM does not declare them). */
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmNamespace {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}
/** The runtime's WebAssembly namespace, typed with the few APIs engine-nano uses (also for its tests and scripts). */
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;

type Gemm = (
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  aBlockStride: number,
  aRowStride: number,
  aColStride: number,
  accumulate: number,
  bColumnStride: number,
  bRowStride: number,
) => void;

interface Instance {
  /** `wasm-simd-fma` (fused multiply-add, relaxed SIMD) or `wasm-simd` (separate multiply and add). */
  kernel: WasmKernel;
  memory: WasmMemory;
  gemm: Gemm;
  heap: Float32Array;
  /** The helper thread computing the second half of the rows, when there is one. */
  helper: { worker: Worker; control: Int32Array; sequence: number } | undefined;
}

/**
 * The helper thread: instantiates the same module on the same shared memory and, each time the sequence
 * number in control[0] moves, runs gemm on its rows (arguments in control[2..10]), then publishes the
 * sequence number in control[1]. Plain CommonJS so it runs without a TypeScript loader.
 */
const helperSource = `
const { workerData } = require('node:worker_threads');
const { memory, module, control } = workerData;
const view = new Int32Array(control);
let seen = 0;
try {
  const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
  Atomics.store(view, 11, 1);
  for (;;) {
    Atomics.wait(view, 0, seen);
    seen = Atomics.load(view, 0);
    gemm(view[2], view[3], view[4], view[5], view[6], view[7], view[8], view[9], view[10], view[12], view[13], view[14]);
    Atomics.store(view, 1, seen);
    Atomics.notify(view, 1);
  }
} catch (error) {
  Atomics.store(view, 11, -1);
  Atomics.store(view, 1, Atomics.load(view, 0));
  Atomics.notify(view, 1);
}
`;

/** Threads engine-nano computes with: `XFER_NANO_THREADS`, else min(2, available cores). */
export function nanoThreadCount(): number {
  const requested = Number(process.env.XFER_NANO_THREADS);
  return Number.isInteger(requested) && requested >= 1
    ? Math.min(requested, 2)
    : Math.min(2, availableParallelism());
}

/**
 * The two GEMM kernels: `wasm-simd-fma` fuses each multiply-add (relaxed SIMD's `f32x4.relaxed_madd`,
 * one rounding: an FMA instruction on x86-64 with FMA3 and on arm64), 1.3–1.4× the plain kernel's speed;
 * `wasm-simd` multiplies and adds separately (two roundings, IEEE-exact on every machine). Both sum each
 * output over k in the same order in one lane, so either is deterministic and batch-invariant; they differ
 * from each other in the last bits.
 */
export type WasmKernel = 'wasm-simd-fma' | 'wasm-simd';

/**
 * The kernel to use: `XFER_NANO_KERNELS=wasm-simd` forces the plain one; otherwise the FMA kernel when this
 * runtime validates it (Node 20's V8 needs `--experimental-wasm-relaxed-simd`, set here before compiling;
 * later Node versions ship relaxed SIMD on by default).
 */
function chooseKernel(): { kernel: WasmKernel; bytes: Uint8Array } {
  const plain = { kernel: 'wasm-simd' as const, bytes: Buffer.from(gemmWasmBase64, 'base64') };
  if (process.env.XFER_NANO_KERNELS === 'wasm-simd') return plain;
  const fma = Buffer.from(gemmFmaWasmBase64, 'base64');
  if (!wasmApi.validate(fma)) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      return plain;
    }
    if (!wasmApi.validate(fma)) return plain;
  }
  return { kernel: 'wasm-simd-fma', bytes: fma };
}

let instance: Instance | undefined | null;

function load(): Instance | null {
  if (instance !== undefined) return instance;
  try {
    const { kernel, bytes } = chooseKernel();
    const module = new wasmApi.Module(bytes);
    const memory = new wasmApi.Memory({ initial: 16, maximum: 16384, shared: true });
    const exports = new wasmApi.Instance(module, { env: { memory } }).exports as { gemm: Gemm };
    let helper: Instance['helper'];
    if (nanoThreadCount() > 1) {
      const control = new SharedArrayBuffer(16 * 4);
      const worker = new Worker(helperSource, { eval: true, workerData: { memory, module, control } });
      worker.unref();
      helper = { worker, control: new Int32Array(control), sequence: 0 };
    }
    instance = { kernel, memory, gemm: exports.gemm, heap: new Float32Array(memory.buffer), helper };
  } catch {
    instance = null;
  }
  return instance;
}

/** How many callers keep this thread's products off the helper (the replica has the other core). */
let helperPauses = 0;

/**
 * Keep this thread's products off the helper thread until the returned function is called (idempotent):
 * while the replica computes on the other core, a helper would only oversubscribe it.
 */
export function pauseGemmHelper(): () => void {
  helperPauses++;
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    helperPauses--;
  };
}

/** Run `body` with the helper paused (see `pauseGemmHelper`). */
export function withoutGemmHelper<T>(body: () => T): T {
  const resume = pauseGemmHelper();
  try {
    return body();
  } finally {
    resume();
  }
}

/** Below this many multiply-adds a product stays on one thread (waking the helper costs more). */
const parallelThreshold = 1 << 19;

/** gemm over all rows, the second half of them on the helper thread when it pays. */
function gemm(
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  blockStride: number,
  rowStride: number,
  colStride: number,
  accumulate: number,
  bColumnStride: number,
  bRowStride: number,
): void {
  const wasm = instance!;
  const helper = wasm.helper;
  if (
    !helper ||
    helperPauses > 0 ||
    m < 8 ||
    m * k * n < parallelThreshold ||
    Atomics.load(helper.control, 11) !== 1
  ) {
    wasm.gemm(a, b, c, m, k, n, blockStride, rowStride, colStride, accumulate, bColumnStride, bRowStride);
    return;
  }
  const mine = ((m >> 3) << 2) as number;
  const control = helper.control;
  control[2] = a + (mine >> 2) * blockStride;
  control[3] = b;
  control[4] = c + mine * n * 4;
  control[5] = m - mine;
  control[6] = k;
  control[7] = n;
  control[8] = blockStride;
  control[9] = rowStride;
  control[10] = colStride;
  control[12] = accumulate;
  control[13] = bColumnStride;
  control[14] = bRowStride;
  const sequence = ++helper.sequence;
  Atomics.store(control, 0, sequence);
  Atomics.notify(control, 0);
  wasm.gemm(a, b, c, mine, k, n, blockStride, rowStride, colStride, accumulate, bColumnStride, bRowStride);
  for (;;) {
    const done = Atomics.load(control, 1);
    if (done === sequence) break;
    Atomics.wait(control, 1, done, 1000);
  }
  if (Atomics.load(control, 11) === -1) {
    // the helper died: compute its rows here and stop using it
    wasm.helper = undefined;
    wasm.gemm(
      control[2]!,
      b,
      control[4]!,
      m - mine,
      k,
      n,
      blockStride,
      rowStride,
      colStride,
      accumulate,
      bColumnStride,
      bRowStride,
    );
  }
}

/** Whether this runtime can run the WebAssembly SIMD kernels. */
export function wasmSimdAvailable(): boolean {
  return load() !== null;
}

/** The GEMM kernel in use (null without WebAssembly SIMD). */
export function wasmKernel(): WasmKernel | null {
  return load()?.kernel ?? null;
}

/** Threads the WebAssembly kernels use (1 or 2). */
export function wasmThreads(): number {
  return load()?.helper ? 2 : 1;
}

/** Floats at the start of the heap holding the resident prepared weights; scratch starts after them. */
let residentFloats = 0;
let residentEpoch = 0;

function heapFor(floats: number): Float32Array {
  const wasm = load()!;
  const bytes = floats * 4;
  if (wasm.memory.buffer.byteLength < bytes) {
    wasm.memory.grow(Math.ceil((bytes - wasm.memory.buffer.byteLength) / 65536));
  }
  if (wasm.heap.buffer !== wasm.memory.buffer || wasm.heap.length * 4 !== wasm.memory.buffer.byteLength)
    wasm.heap = new Float32Array(wasm.memory.buffer);
  return wasm.heap;
}

/** Where B comes from: written packed by `fill`, a row-major [k, n] matrix, or prepared weights resident in the heap. */
type BSource =
  | { kind: 'fill'; fill: (heap: Float32Array, offset: number, nPad: number) => void }
  | { kind: 'rowMajor'; data: FloatArray }
  | { kind: 'resident'; offset: number };

/**
 * Run C = A·B in wasm. A is row-major [m, k] (copied as it is), or with `transposed` the row-major [k, m]
 * matrix whose transpose is A (read in place when m is a multiple of 4 and B has few panels, else packed in
 * panels of 4 rows, [mPad/4][k][4]). A row-major B with n a multiple of 8 is read in place; otherwise B is
 * packed in panels of 8 columns ([nPad/8][k][8], columns ≥ n zero). The result is copied (or added) into
 * `c` ([m, n]). Every path sums each output over k in the same order: the same bits whichever layout.
 */
function run(
  a: FloatArray,
  transposed: boolean,
  m: number,
  k: number,
  n: number,
  c: FloatArray,
  accumulate: boolean,
  source: BSource,
): void {
  const mPad = (m + 3) & ~3;
  const nPad = (n + 7) & ~7;
  const aOffset = residentFloats;
  const bOffset = aOffset + mPad * k;
  const cOffset = bOffset + (source.kind === 'resident' ? 0 : nPad * k);
  const heap = heapFor(cOffset + mPad * nPad);
  // In place, Aᵀ is re-read once per 8-column panel from a stride of 4m floats: it pays for few panels only.
  const stridedA = transposed && mPad === m && nPad <= stridedPanelLimit;
  if (stridedA) {
    heap.set(a.subarray(0, k * m), aOffset);
  } else if (transposed) {
    packTransposedA(heap, aOffset, a, m, k, mPad);
  } else {
    heap.set(a.subarray(0, m * k), aOffset);
    heap.fill(0, aOffset + m * k, aOffset + mPad * k);
  }
  let b = bOffset;
  let bColumnStride = k * 4;
  let bRowStride = 32;
  if (source.kind === 'resident') {
    b = source.offset;
  } else if (source.kind === 'rowMajor' && nPad === n) {
    heap.set(source.data.subarray(0, k * n), bOffset);
    bColumnStride = 4;
    bRowStride = n * 4;
  } else if (source.kind === 'rowMajor') {
    packRowMajorB(heap, bOffset, source.data, k, n);
  } else {
    source.fill(heap, bOffset, nPad);
  }
  if (accumulate) {
    // the kernel adds onto C: bring C in (padding rows and columns are computed and discarded)
    if (nPad === n) heap.set(c.subarray(0, m * n), cOffset);
    else for (let i = 0; i < m; i++) heap.set(c.subarray(i * n, i * n + n), cOffset + i * nPad);
  }
  const add = accumulate ? 1 : 0;
  const [blockStride, rowStride, colStride] = stridedA
    ? [16, 4, m * 4]
    : transposed
      ? [k * 16, 4, 16]
      : [k * 16, k * 4, 4];
  gemm(
    aOffset * 4,
    b * 4,
    cOffset * 4,
    mPad,
    k,
    nPad,
    blockStride,
    rowStride,
    colStride,
    add,
    bColumnStride,
    bRowStride,
  );
  if (nPad === n) {
    c.set(heap.subarray(cOffset, cOffset + m * n));
    return;
  }
  for (let i = 0; i < m; i++) c.set(heap.subarray(cOffset + i * nPad, cOffset + i * nPad + n), i * n);
}

/** Widest B (in columns) for which a transposed A is read in place rather than packed. */
const stridedPanelLimit = 128;

/** Aᵀ given as row-major [k, m], packed in panels of 4 rows of A: [mPad/4][k][4]. */
function packTransposedA(
  heap: Float32Array,
  offset: number,
  a: FloatArray,
  m: number,
  k: number,
  mPad: number,
): void {
  for (let ib = 0; ib < mPad; ib += 4) {
    let target = offset + ib * k;
    let source = ib;
    if (ib + 4 <= m) {
      for (let p = 0; p < k; p++) {
        heap[target] = a[source]!;
        heap[target + 1] = a[source + 1]!;
        heap[target + 2] = a[source + 2]!;
        heap[target + 3] = a[source + 3]!;
        target += 4;
        source += m;
      }
    } else {
      for (let p = 0; p < k; p++) {
        for (let r = 0; r < 4; r++) heap[target + r] = ib + r < m ? a[source + r]! : 0;
        target += 4;
        source += m;
      }
    }
  }
}

/** A row-major [k, n] matrix packed as B, into `heap` at `offset`. */
function packRowMajorB(heap: Float32Array, offset: number, b: FloatArray, k: number, n: number): void {
  const nPad = (n + 7) & ~7;
  for (let jb = 0; jb < nPad; jb += 8) {
    const width = Math.min(8, n - jb);
    let target = offset + jb * k;
    let source = jb;
    if (width === 8) {
      for (let p = 0; p < k; p++) {
        heap[target] = b[source]!;
        heap[target + 1] = b[source + 1]!;
        heap[target + 2] = b[source + 2]!;
        heap[target + 3] = b[source + 3]!;
        heap[target + 4] = b[source + 4]!;
        heap[target + 5] = b[source + 5]!;
        heap[target + 6] = b[source + 6]!;
        heap[target + 7] = b[source + 7]!;
        target += 8;
        source += n;
      }
    } else {
      for (let p = 0; p < k; p++) {
        for (let jj = 0; jj < 8; jj++) heap[target + jj] = jj < width ? b[source + jj]! : 0;
        target += 8;
        source += n;
      }
    }
  }
}

/** The transpose of a row-major [n, k] matrix (a weight W) packed as B, into `heap` at `offset`. */
function packTransposed(
  heap: Float32Array,
  offset: number,
  b: FloatArray,
  k: number,
  n: number,
  nPad: number,
): void {
  for (let jb = 0; jb < nPad; jb += 8) {
    const base = offset + jb * k;
    for (let jj = 0; jj < 8; jj++) {
      const j = jb + jj;
      if (j < n) {
        const row = j * k;
        for (let p = 0; p < k; p++) heap[base + p * 8 + jj] = b[row + p]!;
      } else {
        for (let p = 0; p < k; p++) heap[base + p * 8 + jj] = 0;
      }
    }
  }
}

/** The WebAssembly SIMD backend (float32 only): 4×8 register tiles, B packed in panels. */
export const wasmMatmul: MatmulBackend = {
  get name() {
    return wasmKernel() ?? 'wasm-simd';
  },
  nn(a, b, c, m, k, n, accumulate = false) {
    run(a, false, m, k, n, c, accumulate, { kind: 'rowMajor', data: b });
  },
  nt(a, b, c, m, k, n, accumulate = false) {
    run(a, false, m, k, n, c, accumulate, {
      kind: 'fill',
      fill: (heap, offset, nPad) => packTransposed(heap, offset, b, k, n, nPad),
    });
  },
  tn(a, b, c, m, k, n, accumulate = false) {
    run(a, true, m, k, n, c, accumulate, { kind: 'rowMajor', data: b });
  },
  prepare(weight, n, k) {
    const nPad = (n + 7) & ~7;
    const packed = new Float32Array(nPad * k);
    packTransposed(packed, 0, weight, k, n, nPad);
    return { k, n, packed };
  },
  ntPrepared(a, weight, c, m) {
    if (weight.resident && weight.resident.epoch === residentEpoch) {
      run(a, false, m, weight.k, weight.n, c, false, { kind: 'resident', offset: weight.resident.offset });
    } else {
      run(a, false, m, weight.k, weight.n, c, false, {
        kind: 'fill',
        fill: (heap, offset) => heap.set(weight.packed, offset),
      });
    }
  },
  makeResident(weights) {
    residentEpoch++;
    const total = weights.reduce((sum, weight) => sum + weight.packed.length, 0);
    const heap = heapFor(total);
    let offset = 0;
    for (const weight of weights) {
      heap.set(weight.packed, offset);
      weight.resident = { offset, epoch: residentEpoch };
      offset += weight.packed.length;
    }
    residentFloats = (total + 3) & ~3;
  },
};
