import { elementwiseWasmBase64 } from './gemm-wasm.generated.js';
import { wasmApi } from './wasm-matmul.js';

/**
 * The elementwise kernels of scripts/elementwise.wat: attention's causal softmax, the SwiGLU activation and
 * the log-softmax over the vocabulary with its gradient, with fdlibm's exponential on two float64 lanes. They give the same bits as the JavaScript loops they
 * replace (Math.exp is fdlibm's exp in V8; tests compare every output bit for bit), only faster; each
 * thread instantiates its own copy with its own memory, and blocks are copied in and out.
 */
interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  exp(x: number): number;
  expArray(source: number, target: number, n: number): void;
  softmaxCausal(pointer: number, rows: number, keys: number, first: number, scale: number): void;
  swiglu(gate: number, up: number, out: number, gateExp: number, n: number, keep: number): void;
  logSoftmaxRows(pointer: number, rows: number, vocab: number, entropies: number): void;
  softmaxGradientRows(pointer: number, out: number, rows: number, vocab: number, coefficients: number): void;
}

let exports: Exports | undefined | null;

function load(): Exports | null {
  if (exports !== undefined) return exports;
  try {
    if (process.env.XFER_NANO_KERNELS === 'js') throw new Error('plain JavaScript kernels requested');
    const module = new wasmApi.Module(Buffer.from(elementwiseWasmBase64, 'base64'));
    exports = new wasmApi.Instance(module, { env: { log: Math.log } }).exports as unknown as Exports;
  } catch {
    exports = null;
  }
  return exports;
}

/** Whether the WebAssembly elementwise kernels run here (else callers keep their JavaScript loops). */
export function wasmElementwiseAvailable(): boolean {
  return load() !== null;
}

function memoryFor(bytes: number): ArrayBuffer {
  const wasm = load()!;
  const have = wasm.memory.buffer.byteLength;
  if (have < bytes) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
  return wasm.memory.buffer;
}

/** fdlibm's exp of one value, through the scalar WebAssembly function (tests). */
export function wasmExp(x: number): number {
  return load()!.exp(x);
}

/** exp of every value through the two-lane WebAssembly path (the last odd one scalar; tests). */
export function wasmExpArray(values: Float64Array): Float64Array {
  const n = values.length;
  const buffer = memoryFor(16 * n);
  new Float64Array(buffer, 0, n).set(values);
  load()!.expArray(0, 8 * n, n);
  return new Float64Array(buffer, 8 * n, n).slice();
}

/**
 * Causal softmax, in place, of `rows` rows of `keys` scores (row r is query `first + r`): scores are scaled,
 * exponentiated against the row's maximum and normalised over keys 0..first+r; later keys become 0.
 */
export function softmaxCausalRows(
  scores: Float32Array,
  rows: number,
  keys: number,
  first: number,
  scale: number,
): void {
  const size = rows * keys;
  const heap = new Float32Array(memoryFor(4 * size), 0, size);
  heap.set(scores.subarray(0, size));
  load()!.softmaxCausal(0, rows, keys, first, scale);
  scores.set(heap);
}

/** Elements per pass of `swigluRows` (its blocks stay in cache). */
const swigluBlock = 8192;

/**
 * SwiGLU activation: activated[i] = silu(gate[i])·up[i] for the first `n` values; with `gateExp`, also
 * exp(−gate[i]) in float64 (what the backward reuses).
 */
export function swigluRows(
  gate: Float32Array,
  up: Float32Array,
  activated: Float32Array,
  n: number,
  gateExp?: Float64Array,
): void {
  const wasm = load()!;
  const block = Math.min(n, swigluBlock);
  // layout: gate, up, out (float32), then exp(−gate) (float64, 8-byte aligned)
  const expOffset = 12 * block + ((12 * block) % 8);
  const buffer = memoryFor(expOffset + 8 * block);
  const floats = new Float32Array(buffer, 0, 3 * block);
  const exps = new Float64Array(buffer, expOffset, block);
  for (let start = 0; start < n; start += block) {
    const count = Math.min(block, n - start);
    floats.set(gate.subarray(start, start + count), 0);
    floats.set(up.subarray(start, start + count), block);
    wasm.swiglu(0, 4 * block, 8 * block, expOffset, count, gateExp ? 1 : 0);
    activated.set(floats.subarray(2 * block, 2 * block + count), start);
    if (gateExp) gateExp.set(exps.subarray(0, count), start);
  }
}

/**
 * Log-softmax over the vocabulary, in place, of `rows` rows of `vocab` logits; returns each row's entropy
 * (the JavaScript reference is `logSoftmaxRows` in policy-loss.ts).
 */
export function logSoftmaxRowsWasm(logits: Float32Array, rows: number, vocab: number): Float64Array {
  const size = rows * vocab;
  const entropyOffset = 4 * size + ((4 * size) % 8);
  const buffer = memoryFor(entropyOffset + 8 * rows);
  const heap = new Float32Array(buffer, 0, size);
  heap.set(logits.subarray(0, size));
  load()!.logSoftmaxRows(0, rows, vocab, entropyOffset);
  logits.set(heap);
  return new Float64Array(buffer, entropyOffset, rows).slice();
}

/**
 * The softmax part of the loss gradient: out[r·vocab + j] = −coefficients[r]·exp(logprobs[r·vocab + j]) for
 * `rows` rows of log-probabilities.
 */
export function softmaxGradientRows(
  logprobs: Float32Array,
  out: Float32Array,
  rows: number,
  vocab: number,
  coefficients: Float64Array,
): void {
  const size = rows * vocab;
  const coefficientOffset = 8 * size;
  const buffer = memoryFor(coefficientOffset + 8 * rows);
  new Float32Array(buffer, 0, size).set(logprobs.subarray(0, size));
  new Float64Array(buffer, coefficientOffset, rows).set(coefficients.subarray(0, rows));
  load()!.softmaxGradientRows(0, 4 * size, rows, vocab, coefficientOffset);
  out.set(new Float32Array(buffer, 4 * size, size));
}
