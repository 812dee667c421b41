import { type HiddenResult, ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { columnMeans, symmetricEigen, symmetricEigenvalues, topSymmetricEigen } from './linear-algebra.js';
import { fitPca, linearCka, pcaShift } from './pca-shift.js';
import { SeededRandom } from './random.js';
import { centredGram, wasmGramAvailable } from './wasm/gram-kernel.js';

/** Independent reference: cyclic Jacobi eigendecomposition of a small symmetric matrix (row-major). */
function jacobiEigen(input: number[][]): { values: number[]; vectors: number[][] } {
  const n = input.length;
  const a = input.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y]![y]! - a[x]![x]!);
  return { values: order.map((i) => a[i]![i]!), vectors: order.map((i) => v.map((row) => row[i]!)) };
}

function randomMatrix(rows: number, cols: number, seed: number, scales?: number[]): Float32Array {
  const random = new SeededRandom(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] = (random.nextUint32() / 2 ** 32 - 0.5) * (scales?.[j] ?? 1) + j * 0.1;
    }
  }
  return out;
}

function covariance(data: Float32Array, rows: number, cols: number): number[][] {
  const means = Array.from({ length: cols }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += data[i * cols + j]!;
    return sum / rows;
  });
  return Array.from({ length: cols }, (_, p) =>
    Array.from({ length: cols }, (_, q) => {
      let sum = 0;
      for (let i = 0; i < rows; i++)
        sum += (data[i * cols + p]! - means[p]!) * (data[i * cols + q]! - means[q]!);
      return sum / (rows - 1);
    }),
  );
}

/** sklearn ≥ 1.5 sign rule applied to a reference vector: largest-magnitude entry positive. */
function flipLargestPositive(vector: number[]): number[] {
  let index = 0;
  vector.forEach((value, i) => {
    if (Math.abs(value) > Math.abs(vector[index]!)) index = i;
  });
  return vector[index]! < 0 ? vector.map((value) => -value) : vector;
}

describe('symmetricEigen', () => {
  it('agrees with Jacobi on a random symmetric matrix and reconstructs it', () => {
    const random = new SeededRandom(7);
    const n = 9;
    const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) matrix[i]![j] = matrix[j]![i] = random.nextUint32() / 2 ** 32 - 0.5;
    }
    const ours = symmetricEigen(matrix.flat(), n);
    const reference = jacobiEigen(matrix);
    for (let c = 0; c < n; c++) expect(ours.values[c]).toBeCloseTo(reference.values[c]!, 10);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let c = 0; c < n; c++)
          sum += ours.vectors[i * n + c]! * ours.values[c]! * ours.vectors[j * n + c]!;
        expect(sum).toBeCloseTo(matrix[i]![j]!, 10);
      }
    }
  });
});

describe('topSymmetricEigen', () => {
  it('eigenvalues-only QL and inverse iteration agree with Jacobi, including a near-degenerate pair', () => {
    const random = new SeededRandom(21);
    const n = 14;
    // A = Q diag(λ) Qᵀ with λ1 ≈ λ2 (gap 1e-6) from a random orthogonal Q (Gram–Schmidt)
    const lambdas = [9, 9 - 1e-6, 4, 2, 1, 0.5, 0.25, 0.1, 0.05, 0, 0, 0, 0, 0];
    const q: number[][] = [];
    while (q.length < n) {
      const v = Array.from({ length: n }, () => random.nextUint32() / 2 ** 32 - 0.5);
      for (const u of q) {
        const projection = u.reduce((sum, value, i) => sum + value * v[i]!, 0);
        for (let i = 0; i < n; i++) v[i]! -= projection * u[i]!;
      }
      const norm = Math.hypot(...v);
      q.push(v.map((value) => value / norm));
    }
    const matrix = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) =>
        lambdas.reduce((sum, lambda, c) => sum + lambda * q[c]![i]! * q[c]![j]!, 0),
      ),
    );
    const values = symmetricEigenvalues(matrix.flat(), n);
    const reference = jacobiEigen(matrix);
    for (let c = 0; c < n; c++) expect(values[c]).toBeCloseTo(reference.values[c]!, 11);
    const top = topSymmetricEigen(matrix.flat(), n, 3);
    for (let c = 0; c < 3; c++) {
      const u = Array.from({ length: n }, (_, i) => top.vectors[i * 3 + c]!);
      // residual ‖Au − λu‖ and orthonormality
      for (let i = 0; i < n; i++) {
        const au = matrix[i]!.reduce((sum, value, j) => sum + value * u[j]!, 0);
        expect(au).toBeCloseTo(top.values[c]! * u[i]!, 9);
      }
      expect(u.reduce((sum, value) => sum + value * value, 0)).toBeCloseTo(1, 12);
    }
    const dotVectors = Array.from(
      { length: n },
      (_, i) => top.vectors[i * 3]! * top.vectors[i * 3 + 1]!,
    ).reduce((a, b) => a + b, 0);
    expect(Math.abs(dotVectors)).toBeLessThan(1e-8);
    // the third eigenvector is unique up to sign: compare with the full decomposition
    const full = symmetricEigen(matrix.flat(), n);
    const third = Array.from(
      { length: n },
      (_, i) => top.vectors[i * 3 + 2]! * full.vectors[i * n + 2]!,
    ).reduce((a, b) => a + b, 0);
    expect(Math.abs(third)).toBeCloseTo(1, 10);
  });
});

describe('Gram kernels', () => {
  it('the WebAssembly SIMD kernel agrees with the JavaScript kernel and a plain triple loop (odd shapes)', () => {
    expect(wasmGramAvailable()).toBe(true);
    for (const [rows, cols] of [
      [7, 13],
      [12, 64],
      [1, 3],
    ] as const) {
      const data = randomMatrix(rows, cols, rows + cols);
      const means = columnMeans(data, rows, cols);
      const wasm = centredGram(data, rows, cols, means).gram;
      const javascript = centredGram(data, rows, cols, means, { engine: 'javascript' }).gram;
      const single = centredGram(data, rows, cols, means, { precision: 'float32' }).gram;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < rows; j++) {
          let expected = 0;
          for (let k = 0; k < cols; k++)
            expected += (data[i * cols + k]! - means[k]!) * (data[j * cols + k]! - means[k]!);
          expect(wasm[i * rows + j]).toBeCloseTo(expected, 10);
          expect(javascript[i * rows + j]).toBeCloseTo(expected, 10);
          // float32 products: relative error of order 1e-7 of the row norms
          expect(Math.abs(single[i * rows + j]! - expected)).toBeLessThan(1e-5 * cols);
        }
      }
    }
  });
});

describe('fitPca against an eigendecomposition of the covariance', () => {
  for (const [rows, cols] of [
    [30, 6],
    [5, 9],
  ] as const) {
    it(`${rows} texts × ${cols} features`, () => {
      const data = randomMatrix(rows, cols, rows * 100 + cols, [3, 2.5, 2, 1.5, 1, 0.8, 0.6, 0.4, 0.2]);
      const k = 3;
      const fit = fitPca(data, rows, cols, { components: k, precision: 'float64' });
      const auto = fitPca(data, rows, cols, { components: k });
      const plain = fitPca(data, rows, cols, { components: k, engine: 'javascript' });
      const single = fitPca(data, rows, cols, { components: k, precision: 'float32' });
      for (let j = 0; j < k * cols; j++) {
        expect(plain.components[j]).toBeCloseTo(fit.components[j]!, 10);
        expect(single.components[j]).toBeCloseTo(fit.components[j]!, 4);
        // 'auto' on float32 features is the float32 path, as scikit-learn computes in the input's dtype
        expect(auto.components[j]).toBe(single.components[j]);
      }
      const reference = jacobiEigen(covariance(data, rows, cols));
      const total = reference.values.reduce((sum, value) => sum + Math.max(value, 0), 0);
      for (let c = 0; c < k; c++) {
        expect(fit.explainedVariance[c]).toBeCloseTo(reference.values[c]!, 9);
        expect(fit.explainedVarianceRatio[c]).toBeCloseTo(reference.values[c]! / total, 9);
        const expected = flipLargestPositive(reference.vectors[c]!);
        for (let j = 0; j < cols; j++) expect(fit.components[c * cols + j]).toBeCloseTo(expected[j]!, 8);
      }
    });
  }

  it("sklearn < 1.5 sign rule: each text-score vector's largest entry is positive", () => {
    const rows = 12;
    const cols = 5;
    const data = randomMatrix(rows, cols, 3, [4, 3, 2, 1, 0.5]);
    const fit = fitPca(data, rows, cols, { components: 2, signConvention: 'sklearn<1.5' });
    for (let c = 0; c < 2; c++) {
      const scores = Array.from({ length: rows }, (_, i) => {
        let sum = 0;
        for (let j = 0; j < cols; j++)
          sum += (data[i * cols + j]! - fit.mean[j]!) * fit.components[c * cols + j]!;
        return sum;
      });
      const largest = scores.reduce((best, value) => (Math.abs(value) > Math.abs(best) ? value : best), 0);
      expect(largest).toBeGreaterThan(0);
    }
  });

  it('a constant feature column gets a zero loading; constant texts or one text are typed errors', () => {
    const rows = 10;
    const cols = 4;
    const data = randomMatrix(rows, cols, 11, [2, 1, 1, 0.5]);
    for (let i = 0; i < rows; i++) data[i * cols + 2] = 5;
    const fit = fitPca(data, rows, cols, { components: 2 });
    expect(fit.components[2]).toBeCloseTo(0, 12);
    expect(fit.components[cols + 2]).toBeCloseTo(0, 12);
    const constant = new Float32Array(rows * cols).fill(1.5);
    const error = (() => {
      try {
        fitPca(constant, rows, cols, { components: 2, field: 'layers[0]' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('layers[0]');
    expect(() => fitPca(new Float32Array(cols), 1, cols)).toThrow(/at least 2 texts/);
  });
});

function hidden(layers: Float32Array[], numTexts: number, hiddenSize: number): HiddenResult {
  return { id: 'h', hiddenSize, numTexts, layers, tokenCounts: new Array(numTexts).fill(8) };
}

describe('pcaShift: the paper algorithm', () => {
  const rows = 20;
  const cols = 7;
  const layerCount = 3;
  const baseLayers = Array.from({ length: layerCount }, (_, l) =>
    randomMatrix(rows, cols, 40 + l, [3, 2, 1.5, 1, 0.7, 0.5, 0.3]),
  );
  const tunedLayers = baseLayers.map((layer, l) =>
    layer.map((value, index) => value + (index % cols === 1 ? 0.3 * (l + 1) : 0.05)),
  );

  it('matches a direct transcription of analyse_PCA_Shift.py', () => {
    const result = pcaShift(hidden(baseLayers, rows, cols), hidden(tunedLayers, rows, cols), {
      cka: true,
      precision: 'float64',
    });
    const originals: [number, number][] = [];
    const updateds: [number, number][] = [];
    for (let l = 0; l < layerCount; l++) {
      // the paper: pca.fit(base); pc_o = mean(feats @ comp); pc_u = mean(feats_u @ comp); per text, then mean
      const reference = jacobiEigen(covariance(baseLayers[l]!, rows, cols));
      const comps = [flipLargestPositive(reference.vectors[0]!), flipLargestPositive(reference.vectors[1]!)];
      const meanProjection = (features: Float32Array, comp: number[]) => {
        let total = 0;
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++) total += features[i * cols + j]! * comp[j]!;
        return total / rows;
      };
      const pc1o = meanProjection(baseLayers[l]!, comps[0]!);
      const pc2o = meanProjection(baseLayers[l]!, comps[1]!);
      const pc1u = meanProjection(tunedLayers[l]!, comps[0]!);
      const pc2u = meanProjection(tunedLayers[l]!, comps[1]!);
      originals.push([0, pc2o]);
      updateds.push([pc1u - pc1o, pc2u]);
      const layer = result.layers[l]!;
      expect(layer.original[1]).toBeCloseTo(pc2o, 9);
      expect(layer.updated[0]).toBeCloseTo(pc1u - pc1o, 9);
      expect(layer.updated[1]).toBeCloseTo(pc2u, 9);
      expect(layer.shift).toBeCloseTo(Math.hypot(pc1u - pc1o, pc2u - pc2o), 9);
    }
    // compute_centroid_distance: mean over layers of each state, then L2 of the difference
    const mean = (points: [number, number][], axis: 0 | 1) =>
      points.reduce((s, p) => s + p[axis], 0) / points.length;
    const d = Math.hypot(mean(updateds, 0) - mean(originals, 0), mean(updateds, 1) - mean(originals, 1));
    expect(result.distance).toBeCloseTo(d, 9);
    expect(result.distance).toBeGreaterThan(0.01);
    for (const layer of result.layers) {
      expect(layer.cka).toBeGreaterThan(0.5);
      expect(layer.cka).toBeLessThanOrEqual(1 + 1e-12);
    }
  });

  it('float32 (WebAssembly) and double (JavaScript) paths agree on every point and on d', () => {
    const single = pcaShift(hidden(baseLayers, rows, cols), hidden(tunedLayers, rows, cols), {
      precision: 'float32',
    });
    const double = pcaShift(hidden(baseLayers, rows, cols), hidden(tunedLayers, rows, cols), {
      engine: 'javascript',
    });
    expect(single.distance).toBeCloseTo(double.distance, 5);
    single.layers.forEach((layer, l) => {
      expect(layer.updated[0]).toBeCloseTo(double.layers[l]!.updated[0], 5);
      expect(layer.updated[1]).toBeCloseTo(double.layers[l]!.updated[1], 5);
      expect(layer.base[0]).toBeCloseTo(double.layers[l]!.base[0]!, 5);
    });
  });

  it('a model compared with itself has zero shift and CKA 1', () => {
    const same = pcaShift(hidden(baseLayers, rows, cols), hidden(baseLayers, rows, cols), {
      cka: true,
      components: 4,
    });
    expect(same.distance).toBe(0);
    for (const layer of same.layers) {
      expect(layer.shiftAllComponents).toBe(0);
      expect(layer.cka).toBeCloseTo(1, 12);
      expect(layer.base).toHaveLength(4);
    }
  });

  it('CKA matches the feature-space formula ‖YᵀX‖²/(‖XᵀX‖‖YᵀY‖) and is invariant to scaling', () => {
    const x = baseLayers[0]!;
    const y = tunedLayers[2]!.map((value, index) => value * (1 + (index % 3)));
    const centre = (m: Float32Array) => {
      const out = Array.from({ length: rows }, (_, i) =>
        Array.from({ length: cols }, (_, j) => m[i * cols + j]!),
      );
      for (let j = 0; j < cols; j++) {
        const mu = out.reduce((s, row) => s + row[j]!, 0) / rows;
        for (const row of out) row[j]! -= mu;
      }
      return out;
    };
    const cross = (a: number[][], b: number[][]) => {
      let sum = 0;
      for (let p = 0; p < cols; p++) {
        for (let q = 0; q < cols; q++) {
          let entry = 0;
          for (let i = 0; i < rows; i++) entry += a[i]![p]! * b[i]![q]!;
          sum += entry * entry;
        }
      }
      return sum;
    };
    const cx = centre(x);
    const cy = centre(y);
    const expected = cross(cy, cx) / Math.sqrt(cross(cx, cx) * cross(cy, cy));
    expect(linearCka(x, y, rows, cols)).toBeCloseTo(expected, 10);
    // ×7 is rounded to float32, hence the looser tolerance
    expect(
      linearCka(
        x,
        y.map((value) => value * 7),
        rows,
        cols,
      ),
    ).toBeCloseTo(expected, 7);
  });

  it('mismatched shapes are ValidationErrors naming the field', () => {
    const wrongTexts = hidden(
      baseLayers.map((layer) => layer.subarray(0, (rows - 1) * cols)),
      rows - 1,
      cols,
    );
    expect(() => pcaShift(hidden(baseLayers, rows, cols), wrongTexts)).toThrow(/numTexts/);
    expect(() => pcaShift(hidden(baseLayers, rows, cols), hidden(baseLayers.slice(1), rows, cols))).toThrow(
      /hidden states/,
    );
    expect(() =>
      pcaShift(hidden(baseLayers, rows, cols), hidden(baseLayers, rows, cols), { components: 1 }),
    ).toThrow(/at least 2 components/);
  });
});
