import { describe, expect, it } from 'vitest';
import { logSoftmaxRowsJs } from '../policy-loss.js';
import { softmaxCausalRowsJs, swigluRowsJs } from '../transformer.js';
import {
  logSoftmaxRowsWasm,
  softmaxCausalRows,
  softmaxGradientRows,
  swigluRows,
  wasmElementwiseAvailable,
  wasmExp,
  wasmExpArray,
} from './wasm-elementwise.js';

/** A seeded uniform generator in [0, 1) (LCG; the tests need spread, not quality). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

/** Indices where two arrays differ in any bit (NaN payloads compared as NaN). */
function differences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

// every branch of fdlibm's exp: tiny |x| < 2^-28, |x| ≤ ln2/2 (k = 0), ln2/2 < |x| < 1.5·ln2 (k = ±1),
// the general reduction, k < −1021 (subnormal results), overflow, underflow, ±∞, NaN, signed zeros
const edges = [
  0,
  -0,
  5e-324,
  1e-300,
  -1e-300,
  2 ** -28,
  -(2 ** -28),
  2 ** -29,
  0.34657359027997264,
  0.3465735902799727,
  -0.34657359027997264,
  1.0397207708399179,
  1.039720770839918,
  -1.0397207708399179,
  -1021.5 * Math.LN2,
  -708.5,
  -709.1,
  -744.9,
  -745.1332191019411,
  -745.2,
  699.99,
  700,
  -700,
  709.782712893384,
  709.79,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
];

describe('WebAssembly elementwise kernels', () => {
  it('run on Node 20 (unless plain JavaScript kernels are asked for)', () => {
    expect(wasmElementwiseAvailable()).toBe(process.env.XFER_NANO_KERNELS !== 'js');
  });

  it.runIf(wasmElementwiseAvailable())(
    'exp equals Math.exp bit for bit, on both paths, at every branch',
    () => {
      const next = uniform(7);
      const values = new Float64Array(200_001);
      for (let i = 0; i < values.length; i++) {
        const kind = i % 5;
        values[i] =
          kind === 0
            ? -next() * 40 // softmax arguments
            : kind === 1
              ? (next() - 0.5) * 4
              : kind === 2
                ? (next() - 0.5) * 1500
                : kind === 3
                  ? Math.fround((next() - 0.5) * 60) // float32 gates
                  : (next() - 0.5) * 1e-7;
      }
      values.set(edges, 0);
      // each edge also in the second lane of a pair, beside an ordinary value
      values.set(
        edges.flatMap((edge) => [0.5, edge]),
        1000,
      );
      const expected = Array.from(values, Math.exp);
      expect(differences(wasmExpArray(values), expected)).toEqual([]);
      expect(differences(Array.from(values.subarray(0, 5000), wasmExp), expected.slice(0, 5000))).toEqual([]);
    },
  );

  it.runIf(wasmElementwiseAvailable())('causal softmax rows equal the JavaScript loop bit for bit', () => {
    const next = uniform(3);
    for (const [rows, keys, first, spread] of [
      [64, 200, 136, 40],
      [7, 7, 0, 3],
      [1, 1, 0, 1],
      [5, 69, 64, 2000], // scores far apart: exp arguments below −700 take the scalar path
    ] as const) {
      const scores = Float32Array.from({ length: rows * keys }, () => (next() - 0.5) * spread);
      const reference = scores.slice();
      softmaxCausalRowsJs(reference, rows, keys, first, 1 / Math.sqrt(32));
      softmaxCausalRows(scores, rows, keys, first, 1 / Math.sqrt(32));
      expect(differences(scores, reference)).toEqual([]);
      // each row is a distribution over the keys its query sees
      for (let r = 0; r < rows; r++) {
        const row = Array.from(scores.subarray(r * keys, (r + 1) * keys));
        expect(row.slice(0, first + r + 1).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(row.slice(first + r + 1).every((p) => p === 0)).toBe(true);
      }
    }
  });

  it.runIf(wasmElementwiseAvailable())(
    'SwiGLU equals the JavaScript loop bit for bit, with and without exp(−gate)',
    () => {
      const next = uniform(11);
      for (const n of [1, 2, 8191, 20_001]) {
        const gate = Float32Array.from({ length: n }, () => (next() - 0.5) * 30);
        const up = Float32Array.from({ length: n }, () => next() - 0.5);
        gate[0] = 800; // exp(−800) underflows: the scalar path
        const expected = new Float32Array(n);
        const expectedExp = new Float64Array(n);
        swigluRowsJs(gate, up, expected, n, expectedExp);
        const activated = new Float32Array(n);
        const gateExp = new Float64Array(n);
        swigluRows(gate, up, activated, n, gateExp);
        expect(differences(activated, expected)).toEqual([]);
        expect(differences(gateExp, expectedExp)).toEqual([]);
        const inPlace = gate.slice();
        swigluRows(inPlace, up, inPlace, n);
        expect(differences(inPlace, expected)).toEqual([]);
      }
    },
  );

  it.runIf(wasmElementwiseAvailable())(
    'log-softmax over the vocabulary and its gradient equal the JavaScript loops',
    () => {
      const next = uniform(5);
      for (const [rows, vocab, spread] of [
        [37, 264, 20],
        [3, 7, 2],
        [2, 265, 3000], // a vocabulary of odd size; logits far apart (exp arguments below −700)
      ] as const) {
        const logits = Float32Array.from({ length: rows * vocab }, () => (next() - 0.5) * spread);
        const reference = logits.slice();
        const expectedEntropies = logSoftmaxRowsJs(reference, rows, vocab);
        const entropies = logSoftmaxRowsWasm(logits, rows, vocab);
        expect(differences(logits, reference)).toEqual([]);
        expect(differences(entropies, expectedEntropies)).toEqual([]);
        const coefficients = Float64Array.from({ length: rows }, () => (next() - 0.5) / 100);
        const expected = new Float32Array(rows * vocab);
        for (let r = 0; r < rows; r++)
          for (let j = 0; j < vocab; j++)
            expected[r * vocab + j] = -coefficients[r]! * Math.exp(reference[r * vocab + j]!);
        const gradient = new Float32Array(rows * vocab);
        softmaxGradientRows(logits, gradient, rows, vocab, coefficients);
        expect(differences(gradient, expected)).toEqual([]);
      }
    },
  );
});
