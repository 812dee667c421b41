/**
 * Small dense linear algebra for the analyses: column centring, the Gram matrix of a row-major matrix
 * (4×4 register-tiled, double accumulation), and the symmetric eigendecomposition (Householder
 * tridiagonalisation + implicit QL, after JAMA's `tred2`/`tql2`, public domain).
 *
 * @module
 */

/** Column means of a row-major `[rows, cols]` matrix, accumulated in double precision. */
export function columnMeans(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (data instanceof Float32Array) return columnMeansFloat32(data, rows, cols);
  const means = new Float64Array(cols);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) means[col]! += data[offset + col]!;
  }
  for (let col = 0; col < cols; col++) means[col]! /= rows;
  return means;
}

/** {@link columnMeans} specialised for float32 input (monomorphic: the hot path for hidden states). */
function columnMeansFloat32(data: Float32Array, rows: number, cols: number): Float64Array {
  const means = new Float64Array(cols);
  let row = 0;
  for (; row + 3 < rows; row += 4) {
    const a = row * cols;
    const b = a + cols;
    const c = b + cols;
    const d = c + cols;
    for (let col = 0; col < cols; col++) {
      means[col]! += data[a + col]! + data[b + col]! + data[c + col]! + data[d + col]!;
    }
  }
  for (; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) means[col]! += data[offset + col]!;
  }
  for (let col = 0; col < cols; col++) means[col]! /= rows;
  return means;
}

/**
 * Subtract the column means from a row-major `[rows, cols]` matrix. The result has `paddedRows` rows
 * (rows rounded up to a multiple of 4, extra rows zero) so the Gram kernel needs no remainder loops.
 */
export function centreColumns(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  means: Float64Array = columnMeans(data, rows, cols),
): { centred: Float64Array; paddedRows: number; means: Float64Array } {
  const paddedRows = Math.ceil(rows / 4) * 4;
  const centred = new Float64Array(paddedRows * cols);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) centred[offset + col] = data[offset + col]! - means[col]!;
  }
  return { centred, paddedRows, means };
}

/**
 * The Gram matrix `A·Aᵀ` (`[rows, rows]`, symmetric) of a row-major `[paddedRows, cols]` matrix whose row
 * count is a multiple of 4. Computes only the upper block triangle with a 4×4 tile of 16 accumulators.
 */
export function gramMatrix(
  matrix: Float64Array,
  paddedRows: number,
  cols: number,
  rows = paddedRows,
): Float64Array {
  if (paddedRows % 4 !== 0) throw new RangeError('gramMatrix: paddedRows must be a multiple of 4');
  const full = new Float64Array(paddedRows * paddedRows);
  for (let i = 0; i < paddedRows; i += 4) {
    const a0 = i * cols;
    const a1 = a0 + cols;
    const a2 = a1 + cols;
    const a3 = a2 + cols;
    for (let j = i; j < paddedRows; j += 4) {
      const b0 = j * cols;
      const b1 = b0 + cols;
      const b2 = b1 + cols;
      const b3 = b2 + cols;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let k = 0; k < cols; k++) {
        const x0 = matrix[a0 + k]!;
        const x1 = matrix[a1 + k]!;
        const x2 = matrix[a2 + k]!;
        const x3 = matrix[a3 + k]!;
        const y0 = matrix[b0 + k]!;
        const y1 = matrix[b1 + k]!;
        const y2 = matrix[b2 + k]!;
        const y3 = matrix[b3 + k]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s30 += x3 * y0;
        s31 += x3 * y1;
        s32 += x3 * y2;
        s33 += x3 * y3;
      }
      const sums = [s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33];
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          const value = sums[r * 4 + c]!;
          full[(i + r) * paddedRows + (j + c)] = value;
          full[(j + c) * paddedRows + (i + r)] = value;
        }
      }
    }
  }
  if (rows === paddedRows) return full;
  const gram = new Float64Array(rows * rows);
  for (let r = 0; r < rows; r++) gram.set(full.subarray(r * paddedRows, r * paddedRows + rows), r * rows);
  return gram;
}

/** Eigenvalues in descending order and the matching unit eigenvectors (column `j` of `vectors`). */
export interface SymmetricEigen {
  size: number;
  values: Float64Array;
  /** Row-major `[size, size]`; eigenvector `j` is `vectors[i * size + j]` for `i = 0..size-1`. */
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric row-major `[size, size]` matrix (only exactness-grade double
 * arithmetic; Householder reduction to tridiagonal form, then the implicit QL algorithm).
 */
export function symmetricEigen(matrix: ArrayLike<number>, size: number): SymmetricEigen {
  const n = size;
  const v: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) row[j] = matrix[i * n + j]!;
    v.push(row);
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n > 0) {
    tridiagonalise(v, d, e, n);
    diagonalise(v, d, e, n);
  }
  const order = Array.from({ length: n }, (_, index) => index).sort((a, b) => d[b]! - d[a]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((source, target) => {
    values[target] = d[source]!;
    for (let i = 0; i < n; i++) vectors[i * n + target] = v[i]![source]!;
  });
  return { size: n, values, vectors };
}

function tridiagonalise(v: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[n - 1]![j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = v[i - 1]![j]!;
        v[i]![j] = 0;
        v[j]![i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        v[j]![i] = f;
        g = e[j]! + v[j]![j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k]![j]! * d[k]!;
          e[k]! += v[k]![j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) v[k]![j]! -= f * e[k]! + g * d[k]!;
        d[j] = v[i - 1]![j]!;
        v[i]![j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    v[n - 1]![i] = v[i]![i]!;
    v[i]![i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k]![i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k]![i + 1]! * v[k]![j]!;
        for (let k = 0; k <= i; k++) v[k]![j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) v[k]![i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[n - 1]![j]!;
    v[n - 1]![j] = 0;
  }
  v[n - 1]![n - 1] = 1;
  e[0] = 0;
}

function diagonalise(v: Float64Array[] | null, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iterations = 0;
      do {
        iterations++;
        if (iterations > 100) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (v !== null) {
            for (let k = 0; k < n; k++) {
              const row = v[k]!;
              h = row[i + 1]!;
              row[i + 1] = s * row[i]! + c * h;
              row[i] = c * row[i]! - s * h;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** A symmetric matrix reduced to tridiagonal form T = Qᵀ A Q, Q = H_0 H_1 … H_{n−3} (Householder). */
interface Tridiagonal {
  n: number;
  diagonal: Float64Array;
  /** `offDiagonal[i]` couples i − 1 and i (`offDiagonal[0]` = 0). */
  offDiagonal: Float64Array;
  /** Row k holds the unit Householder vector v_k over indices k + 1 … n − 1 (zero where H_k = I). */
  reflectors: Float64Array;
}

function tridiagonalForm(matrix: ArrayLike<number>, n: number): Tridiagonal {
  const a = copyMatrix(matrix, n * n);
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n);
  const reflectors = new Float64Array(n * n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const v = reflectors.subarray(k * n, (k + 1) * n);
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += a[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = a[(k + 1) * n + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    diagonal[k] = a[k * n + k]!;
    if (norm === 0) {
      offDiagonal[k + 1] = 0;
      continue;
    }
    offDiagonal[k + 1] = alpha;
    let vNorm = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = a[i * n + k]! - (i === k + 1 ? alpha : 0);
      vNorm += v[i]! ** 2;
    }
    vNorm = Math.sqrt(vNorm);
    for (let i = k + 1; i < n; i++) v[i]! /= vNorm;
    // p = A v on the trailing block, w = p − (vᵀp) v, then A ← A − 2 v wᵀ − 2 w vᵀ; only the lower triangle
    // (j ≤ i) is read and kept up to date, which halves the work.
    p.fill(0, k + 1, n);
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      let sum = 0;
      for (let j = k + 1; j < i; j++) {
        const aij = a[row + j]!;
        sum += aij * v[j]!;
        p[j]! += aij * vi;
      }
      p[i]! += sum + a[row + i]! * vi;
    }
    let vp = 0;
    for (let i = k + 1; i < n; i++) vp += v[i]! * p[i]!;
    for (let i = k + 1; i < n; i++) p[i] = p[i]! - vp * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = 2 * v[i]!;
      const wi = 2 * p[i]!;
      for (let j = k + 1; j <= i; j++) a[row + j]! -= vi * p[j]! + wi * v[j]!;
    }
  }
  if (n >= 2) {
    diagonal[n - 2] = a[(n - 2) * n + (n - 2)]!;
    offDiagonal[n - 1] = a[(n - 1) * n + (n - 2)]!;
  }
  if (n >= 1) diagonal[n - 1] = a[(n - 1) * n + (n - 1)]!;
  return { n, diagonal, offDiagonal, reflectors };
}

/**
 * Eigenvalues of a symmetric matrix only (Householder tridiagonalisation without accumulating the
 * transformations, then implicit QL), in descending order.
 */
export function symmetricEigenvalues(matrix: ArrayLike<number>, size: number): Float64Array {
  const form = tridiagonalForm(matrix, size);
  const d = Float64Array.from(form.diagonal);
  diagonalise(null, d, Float64Array.from(form.offDiagonal), size);
  return d.sort().reverse();
}

/** Solve (T − shift·I) x = rhs for a symmetric tridiagonal T, Gaussian elimination with row interchanges. */
function solveShiftedTridiagonal(form: Tridiagonal, shift: number, rhs: ArrayLike<number>): Float64Array {
  const n = form.n;
  const b = Float64Array.from(rhs);
  const d = new Float64Array(n);
  const du = new Float64Array(n);
  const dl = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = form.diagonal[i]! - shift;
  for (let i = 0; i < n - 1; i++) {
    du[i] = form.offDiagonal[i + 1]!;
    dl[i] = form.offDiagonal[i + 1]!;
  }
  const tiny = Number.MIN_VALUE * 2 ** 60;
  for (let i = 0; i < n - 1; i++) {
    if (Math.abs(d[i]!) >= Math.abs(dl[i]!)) {
      if (d[i] === 0) d[i] = tiny;
      const fact = dl[i]! / d[i]!;
      d[i + 1]! -= fact * du[i]!;
      b[i + 1]! -= fact * b[i]!;
      dl[i] = 0;
    } else {
      const fact = d[i]! / dl[i]!;
      d[i] = dl[i]!;
      const temp = d[i + 1]!;
      d[i + 1] = du[i]! - fact * temp;
      if (i < n - 2) {
        dl[i] = du[i + 1]!;
        du[i + 1] = -fact * dl[i]!;
      } else dl[i] = 0;
      du[i] = temp;
      const swap = b[i]!;
      b[i] = b[i + 1]!;
      b[i + 1] = swap - fact * b[i + 1]!;
    }
  }
  if (d[n - 1] === 0) d[n - 1] = tiny;
  b[n - 1]! /= d[n - 1]!;
  if (n > 1) b[n - 2] = (b[n - 2]! - du[n - 2]! * b[n - 1]!) / d[n - 2]!;
  for (let i = n - 3; i >= 0; i--) b[i] = (b[i]! - du[i]! * b[i + 1]! - dl[i]! * b[i + 2]!) / d[i]!;
  return b;
}

/**
 * The `count` largest eigenpairs of a symmetric matrix: eigenvalues by tridiagonalisation and implicit QL,
 * eigenvectors by inverse iteration on the tridiagonal form (Gram–Schmidt against the ones already found)
 * and back-transformation through the Householder reflectors. Falls back to the full
 * {@link symmetricEigen} when a residual ‖Au − λu‖ is not at rounding level.
 */
export function topSymmetricEigen(matrix: ArrayLike<number>, size: number, count: number): SymmetricEigen {
  const n = size;
  const k = Math.min(count, n);
  const form = tridiagonalForm(matrix, n);
  const all = Float64Array.from(form.diagonal);
  diagonalise(null, all, Float64Array.from(form.offDiagonal), n);
  all.sort().reverse();
  const scale = Math.max(Math.abs(all[0] ?? 0), Math.abs(all[n - 1] ?? 0), Number.MIN_VALUE);
  const values = all.slice(0, k);
  const vectors = new Float64Array(n * k);
  const found: Float64Array[] = [];
  const dense = copyMatrix(matrix, n * n);
  for (let c = 0; c < k; c++) {
    const lambda = values[c]!;
    let y: Float64Array = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = 1 + ((i * 7919 + c * 31) % 97) / 97;
    for (let iteration = 0; iteration < 3; iteration++) {
      y = solveShiftedTridiagonal(form, lambda + scale * 1e-14, y);
      for (const previous of found) {
        const projection = dot(previous, y, n);
        for (let i = 0; i < n; i++) y[i]! -= projection * previous[i]!;
      }
      const norm = Math.sqrt(dot(y, y, n));
      if (!(norm > 0) || !Number.isFinite(norm)) return sliceEigen(symmetricEigen(matrix, n), k);
      for (let i = 0; i < n; i++) y[i]! /= norm;
    }
    found.push(y);
    // x = H_0 H_1 … H_{n−3} y
    const x = Float64Array.from(y);
    for (let r = n - 3; r >= 0; r--) {
      const offset = r * n;
      let projection = 0;
      for (let i = r + 1; i < n; i++) projection += form.reflectors[offset + i]! * x[i]!;
      if (projection === 0) continue;
      projection *= 2;
      for (let i = r + 1; i < n; i++) x[i]! -= projection * form.reflectors[offset + i]!;
    }
    let residual = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += dense[i * n + j]! * x[j]!;
      residual += (sum - lambda * x[i]!) ** 2;
    }
    if (!(Math.sqrt(residual) <= scale * n * 1e-12)) return sliceEigen(symmetricEigen(matrix, n), k);
    for (let i = 0; i < n; i++) vectors[i * k + c] = x[i]!;
  }
  return { size: n, values, vectors };
}

function copyMatrix(matrix: ArrayLike<number>, length: number): Float64Array {
  if (matrix instanceof Float64Array) return matrix.slice(0, length);
  const copy = new Float64Array(length);
  for (let i = 0; i < length; i++) copy[i] = matrix[i]!;
  return copy;
}

function sliceEigen(full: SymmetricEigen, k: number): SymmetricEigen {
  const n = full.size;
  const vectors = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) vectors[i * k + c] = full.vectors[i * n + c]!;
  return { size: n, values: full.values.slice(0, k), vectors };
}

/** Dot product of `a[aOffset..aOffset+length)` and `b[bOffset..)`. */
export function dot(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  length: number,
  aOffset = 0,
  bOffset = 0,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < length; k += 4) {
    s0 += a[aOffset + k]! * b[bOffset + k]!;
    s1 += a[aOffset + k + 1]! * b[bOffset + k + 1]!;
    s2 += a[aOffset + k + 2]! * b[bOffset + k + 2]!;
    s3 += a[aOffset + k + 3]! * b[bOffset + k + 3]!;
  }
  for (; k < length; k++) s0 += a[aOffset + k]! * b[bOffset + k]!;
  return s0 + s1 + s2 + s3;
}
