/** A dense row-major float buffer: Float32Array in production, Float64Array for gradient checks. */
export type FloatArray = Float32Array | Float64Array;

/**
 * The three matrix products the transformer needs, on row-major buffers. `accumulate` adds into `c`
 * instead of overwriting it. Every output element is a sum over the shared dimension in ascending order,
 * so a row's result never depends on which other rows are in the same call (batch independence).
 */
export interface MatmulBackend {
  readonly name: string;
  /** c[m,n] (+)= a[m,k] · b[k,n] */
  nn(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    m: number,
    k: number,
    n: number,
    accumulate?: boolean,
  ): void;
  /** c[m,n] (+)= a[m,k] · b[n,k]ᵀ */
  nt(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    m: number,
    k: number,
    n: number,
    accumulate?: boolean,
  ): void;
  /** c[m,n] (+)= a[k,m]ᵀ · b[k,n] */
  tn(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    m: number,
    k: number,
    n: number,
    accumulate?: boolean,
  ): void;
  /** Lay out a weight w[n,k] once for many `ntPrepared` products (same results as `nt`). */
  prepare(weight: FloatArray, n: number, k: number): PreparedWeight;
  /** c[m,n] = a[m,k] · wᵀ with a prepared weight. */
  ntPrepared(a: FloatArray, weight: PreparedWeight, c: FloatArray, m: number): void;
  /**
   * Keep these prepared weights resident next to the kernels (WASM memory) so products skip copying them;
   * replaces the previous resident set (whose weights then work as before, with a copy).
   */
  makeResident(weights: readonly PreparedWeight[]): void;
}

/** A weight laid out for a backend (opaque outside it). */
export interface PreparedWeight {
  readonly k: number;
  readonly n: number;
  readonly packed: FloatArray;
  /** Where the backend keeps a resident copy, and which resident set it belongs to. */
  resident?: { offset: number; epoch: number };
}

/** Plain JavaScript kernels: any precision (float64 for finite-difference checks), about 1 GFLOP/s. */
export const jsMatmul: MatmulBackend = {
  name: 'js',
  prepare(weight, n, k) {
    return { k, n, packed: weight };
  },
  ntPrepared(a, weight, c, m) {
    jsMatmul.nt(a, weight.packed, c, m, weight.k, weight.n);
  },
  makeResident() {},
  nn(a, b, c, m, k, n, accumulate = false) {
    if (!accumulate) c.fill(0, 0, m * n);
    for (let i = 0; i < m; i++) {
      const rowC = i * n;
      const rowA = i * k;
      for (let p = 0; p < k; p++) {
        const value = a[rowA + p]!;
        const rowB = p * n;
        for (let j = 0; j < n; j++) c[rowC + j]! += value * b[rowB + j]!;
      }
    }
  },
  nt(a, b, c, m, k, n, accumulate = false) {
    for (let i = 0; i < m; i++) {
      const rowA = i * k;
      for (let j = 0; j < n; j++) {
        const rowB = j * k;
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[rowA + p]! * b[rowB + p]!;
        if (accumulate) c[i * n + j]! += sum;
        else c[i * n + j] = sum;
      }
    }
  },
  tn(a, b, c, m, k, n, accumulate = false) {
    if (!accumulate) c.fill(0, 0, m * n);
    for (let p = 0; p < k; p++) {
      const rowA = p * m;
      const rowB = p * n;
      for (let i = 0; i < m; i++) {
        const value = a[rowA + i]!;
        const rowC = i * n;
        for (let j = 0; j < n; j++) c[rowC + j]! += value * b[rowB + j]!;
      }
    }
  },
};
