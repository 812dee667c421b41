/**
 * Latent-space PCA shift (PAPER.md §5.2, `analyse_PCA_Shift.py`), exactly, plus what the paper lacked.
 *
 * Per hidden layer l (0 = embeddings):
 * 1. fit PCA(k) on the base model's pooled features (sklearn semantics: centre the columns, SVD, the sign
 *    convention of `svd_flip`), computed through the `[texts, texts]` Gram matrix instead of the
 *    `[hidden, hidden]` covariance (same components, far less work when texts ≪ hidden size);
 * 2. pc_o = mean over texts of feats·comp (a raw dot product, no centring), for the base;
 * 3. pc_u = the same for the tuned model's features projected on the **base** components;
 * 4. the paper's per-layer points: Original = (0, pc2_o), Updated = (pc1_u − pc1_o, pc2_u);
 * 5. d = ‖mean over layers of Updated − mean over layers of Original‖₂.
 *
 * Beyond the paper: the per-layer shift ‖(Δpc1, Δpc2)‖ (a curve over depth), shifts over k components, the
 * explained-variance ratios, and linear CKA between base and tuned features per layer.
 *
 * The inputs' production (100 texts, truncation to 128 tokens, mean pooling over padded positions) belongs
 * to the engine's `hidden` call with `pooling: 'mean-with-padding'`; see `paperHiddenRequest`.
 *
 * @module
 */
import { type HiddenRequestInput, type HiddenResult, ValidationError } from '@xfer/core';
import { columnMeans, topSymmetricEigen } from './linear-algebra.js';
import {
  centredGram,
  columnMeansFloat32Wasm,
  float32Workspace,
  type GramPrecision,
} from './wasm/gram-kernel.js';

/**
 * How component signs are fixed, as sklearn's `svd_flip` does:
 * - `'sklearn>=1.5'` (`u_based_decision=False`): the largest-magnitude entry of each component is positive;
 * - `'sklearn<1.5'` (`u_based_decision=True`): the largest-magnitude entry of each left singular vector (the
 *   texts' scores) is positive.
 * Ties go to the first index, as numpy's argmax.
 */
export type SignConvention = 'sklearn>=1.5' | 'sklearn<1.5';

/** A PCA fitted on one matrix: `components` is row-major `[k, features]`, as sklearn's `components_`. */
export interface PcaFit {
  components: Float64Array;
  numComponents: number;
  numFeatures: number;
  /** Column means (sklearn's `mean_`). */
  mean: Float64Array;
  /** Variance along each component (sklearn's `explained_variance_`, divided by n − 1). */
  explainedVariance: Float64Array;
  /** Share of the total variance (sklearn's `explained_variance_ratio_`). */
  explainedVarianceRatio: Float64Array;
  singularValues: Float64Array;
}

export interface PcaOptions {
  components?: number;
  signConvention?: SignConvention;
  /** Label for error messages, e.g. `layers[3]`. */
  field?: string;
  /**
   * Arithmetic of the `[texts, texts]` Gram matrix: `'float64'` (double products and sums), `'float32'`
   * (float32 products, double sums of 64-term blocks, about twice as fast), or `'auto'` (default): float32
   * for `Float32Array` features, float64 otherwise — scikit-learn's behaviour, which computes in the input's
   * dtype. Hidden states come as float32 (cast from bf16 in the paper), far coarser than either.
   */
  precision?: GramPrecision | 'auto';
  /** `'javascript'` forces the plain JavaScript kernel (double precision) instead of WebAssembly SIMD (for tests). */
  engine?: 'wasm' | 'javascript';
}

function resolvePrecision(
  precision: GramPrecision | 'auto' | undefined,
  data: ArrayLike<number>,
): GramPrecision {
  if (precision === 'float32' || precision === 'float64') return precision;
  return data instanceof Float32Array ? 'float32' : 'float64';
}

function gramOptions(
  options: { precision?: GramPrecision | 'auto'; engine?: 'wasm' | 'javascript' },
  data: ArrayLike<number>,
) {
  return {
    precision: resolvePrecision(options.precision, data),
    ...(options.engine === undefined ? {} : { engine: options.engine }),
  };
}

/**
 * PCA of a row-major `[rows, cols]` matrix. Needs at least 2 rows and `components` ≤ rank of the centred
 * matrix; otherwise a ValidationError (a component with zero variance has no defined direction).
 */
export function fitPca(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  options: PcaOptions = {},
): PcaFit {
  return fitPcaWithGram(data, rows, cols, options).fit;
}

function fitPcaWithGram(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  options: PcaOptions,
): { fit: PcaFit; gram: Float64Array } {
  const k = options.components ?? 2;
  const field = options.field;
  if (!Number.isInteger(k) || k < 1)
    throw new ValidationError({ field: 'components', message: `must be a positive integer, got ${k}` });
  if (rows < 2) {
    throw new ValidationError({
      ...(field ? { field } : {}),
      message: `PCA needs at least 2 texts, got ${rows}`,
    });
  }
  if (k > Math.min(rows, cols)) {
    throw new ValidationError({
      ...(field ? { field } : {}),
      message: `cannot fit ${k} components on ${rows} texts × ${cols} features`,
    });
  }
  const workspace =
    resolvePrecision(options.precision, data) === 'float32' &&
    options.engine !== 'javascript' &&
    data instanceof Float32Array
      ? float32Workspace(data, rows, cols)
      : null;
  const { centred, stride, gram, means } =
    workspace === null
      ? centredGram(data, rows, cols, columnMeans(data, rows, cols), gramOptions(options, data))
      : { centred: null, stride: cols, gram: workspace.gram, means: workspace.means };
  let total = 0;
  for (let i = 0; i < rows; i++) total += gram[i * rows + i]!;
  const eigen = topSymmetricEigen(gram, rows, k);
  const tolerance = Math.max(eigen.values[0]!, 0) * rows * 2 ** -52 * 16;
  const components = new Float64Array(k * cols);
  const explainedVariance = new Float64Array(k);
  const explainedVarianceRatio = new Float64Array(k);
  const singularValues = new Float64Array(k);
  const u = new Float64Array(rows);
  for (let c = 0; c < k; c++) {
    const lambda = eigen.values[c]!;
    if (!(lambda > tolerance)) {
      throw new ValidationError({
        ...(field ? { field } : {}),
        message: `component ${c + 1} has zero variance (the centred features have rank ${c}); fit fewer components`,
      });
    }
    const sigma = Math.sqrt(lambda);
    for (let i = 0; i < rows; i++) u[i] = eigen.vectors[i * k + c]!;
    // v = Xcᵀ u / σ
    const component = components.subarray(c * cols, (c + 1) * cols);
    if (workspace !== null) component.set(workspace.weightedRowSum(u.map((value) => value / sigma)));
    else if (centred instanceof Float32Array)
      accumulateRowsFloat32(centred, u, 1 / sigma, component, rows, cols, stride);
    else accumulateRowsFloat64(centred!, u, 1 / sigma, component, rows, cols, stride);
    const sign =
      options.signConvention === 'sklearn<1.5' ? signOfLargest(u, rows) : signOfLargest(component, cols);
    if (sign < 0) for (let j = 0; j < cols; j++) component[j] = -component[j]!;
    singularValues[c] = sigma;
    explainedVariance[c] = lambda / (rows - 1);
    explainedVarianceRatio[c] = total > 0 ? lambda / total : 0;
  }
  return {
    fit: {
      components,
      numComponents: k,
      numFeatures: cols,
      mean: means,
      explainedVariance,
      explainedVarianceRatio,
      singularValues,
    },
    gram,
  };
}

/** out += scale · Σ_i weights[i] · row_i (monomorphic per array type). */
function accumulateRowsFloat32(
  matrix: Float32Array,
  weights: Float64Array,
  scale: number,
  out: Float64Array,
  rows: number,
  cols: number,
  stride: number,
): void {
  for (let i = 0; i < rows; i++) {
    const weight = weights[i]! * scale;
    const offset = i * stride;
    for (let j = 0; j < cols; j++) out[j]! += weight * matrix[offset + j]!;
  }
}

function accumulateRowsFloat64(
  matrix: Float64Array,
  weights: Float64Array,
  scale: number,
  out: Float64Array,
  rows: number,
  cols: number,
  stride: number,
): void {
  for (let i = 0; i < rows; i++) {
    const weight = weights[i]! * scale;
    const offset = i * stride;
    for (let j = 0; j < cols; j++) out[j]! += weight * matrix[offset + j]!;
  }
}

function signOfLargest(values: ArrayLike<number>, length: number): number {
  let best = 0;
  let index = 0;
  for (let i = 0; i < length; i++) {
    const magnitude = Math.abs(values[i]!);
    if (magnitude > best) {
      best = magnitude;
      index = i;
    }
  }
  return values[index]! < 0 ? -1 : 1;
}

/** Mean over rows of row·component for each component, computed as (column means)·component. */
export function meanProjections(columnMean: Float64Array, fit: PcaFit): Float64Array {
  const result = new Float64Array(fit.numComponents);
  for (let c = 0; c < fit.numComponents; c++) {
    let sum = 0;
    const offset = c * fit.numFeatures;
    for (let j = 0; j < fit.numFeatures; j++) sum += columnMean[j]! * fit.components[offset + j]!;
    result[c] = sum;
  }
  return result;
}

/** Linear CKA from two centred Gram matrices: ⟨Kx, Ky⟩_F / (‖Kx‖_F ‖Ky‖_F). */
export function linearCkaFromGrams(gramX: Float64Array, gramY: Float64Array): number {
  let cross = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < gramX.length; i++) {
    cross += gramX[i]! * gramY[i]!;
    xx += gramX[i]! * gramX[i]!;
    yy += gramY[i]! * gramY[i]!;
  }
  if (xx === 0 || yy === 0) return Number.NaN;
  return cross / Math.sqrt(xx * yy);
}

/**
 * Linear CKA (Kornblith et al. 2019) between two row-major feature matrices over the same texts:
 * ‖Yᶜᵀ Xᶜ‖²_F / (‖Xᶜᵀ Xᶜ‖_F ‖Yᶜᵀ Yᶜ‖_F), with columns centred. NaN when either side is constant.
 */
export function linearCka(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  rows: number,
  colsX: number,
  colsY = colsX,
): number {
  const gramX = centredGram(x, rows, colsX, columnMeans(x, rows, colsX)).gram;
  return linearCkaFromGrams(gramX, centredGram(y, rows, colsY, columnMeans(y, rows, colsY)).gram);
}

/** One layer of a PCA shift. */
export interface PcaShiftLayer {
  layer: number;
  /** Mean base projections pc_o on each base component (k values). */
  base: number[];
  /** Mean tuned projections pc_u on the same base components. */
  tuned: number[];
  /** The paper's point for the tuned model: (pc1_u − pc1_o, pc2_u). */
  updated: [number, number];
  /** The paper's point for the base model: (0, pc2_o). */
  original: [number, number];
  /** ‖(Δpc1, Δpc2)‖: this layer's shift in the paper's plane. */
  shift: number;
  /** ‖(Δpc1 … Δpck)‖ over all k components. */
  shiftAllComponents: number;
  explainedVarianceRatio: number[];
  /** Linear CKA between base and tuned features (1 = same geometry), when requested. */
  cka?: number;
}

export interface PcaShiftResult {
  layers: PcaShiftLayer[];
  /** Layer-averaged points of the paper: z^(orig) and z^(*). */
  originalCentroid: [number, number];
  updatedCentroid: [number, number];
  /** The paper's d = ‖z^(*) − z^(orig)‖₂. */
  distance: number;
  numComponents: number;
  numTexts: number;
  hiddenSize: number;
}

export interface PcaShiftOptions {
  /** Components fitted per layer (the paper: 2; at least 2, since the paper's plane uses pc1 and pc2). */
  components?: number;
  signConvention?: SignConvention;
  /** Also compute linear CKA per layer (one more Gram matrix per layer). */
  cka?: boolean;
  /** Gram arithmetic, see {@link PcaOptions.precision} (default `'auto'`). */
  precision?: GramPrecision | 'auto';
  /** `'javascript'` forces the plain JavaScript kernels (for tests). */
  engine?: 'wasm' | 'javascript';
  /** Restrict to these hidden-state indices (default: every layer). */
  layers?: readonly number[];
  /** Progress: called after each layer. */
  onLayer?: (done: number, total: number) => void;
}

/**
 * The paper's PCA shift between a base and a tuned model's hidden states over the same texts.
 * Mismatched texts, hidden sizes or layer counts are a ValidationError naming the field.
 */
export function pcaShift(
  base: HiddenResult,
  tuned: HiddenResult,
  options: PcaShiftOptions = {},
): PcaShiftResult {
  const k = options.components ?? 2;
  if (!Number.isInteger(k) || k < 2) {
    throw new ValidationError({
      field: 'components',
      message: `PCA shift needs at least 2 components, got ${k}`,
    });
  }
  for (const field of ['numTexts', 'hiddenSize'] as const) {
    if (base[field] !== tuned[field]) {
      throw new ValidationError({ field, message: `base has ${base[field]}, tuned has ${tuned[field]}` });
    }
  }
  if (base.layers.length !== tuned.layers.length) {
    throw new ValidationError({
      field: 'layers',
      message: `base has ${base.layers.length} hidden states, tuned has ${tuned.layers.length}`,
    });
  }
  const rows = base.numTexts;
  const cols = base.hiddenSize;
  const indices = options.layers ?? base.layers.map((_, index) => index);
  if (indices.length === 0) throw new ValidationError({ field: 'layers', message: 'no layers selected' });
  const result: PcaShiftLayer[] = [];
  for (const layer of indices) {
    const baseFeatures = base.layers[layer];
    const tunedFeatures = tuned.layers[layer];
    if (!baseFeatures || !tunedFeatures) {
      throw new ValidationError({ field: `layers[${layer}]`, message: `no hidden state ${layer}` });
    }
    for (const [who, features] of [
      ['base', baseFeatures],
      ['tuned', tunedFeatures],
    ] as const) {
      if (features.length !== rows * cols) {
        throw new ValidationError({
          field: `layers[${layer}]`,
          message: `${who} matrix has ${features.length} values, expected ${rows} × ${cols}`,
        });
      }
    }
    const { fit, gram } = fitPcaWithGram(baseFeatures, rows, cols, {
      components: k,
      ...(options.signConvention ? { signConvention: options.signConvention } : {}),
      ...(options.precision === undefined ? {} : { precision: options.precision }),
      ...(options.engine === undefined ? {} : { engine: options.engine }),
      field: `layers[${layer}]`,
    });
    const baseMeans = meanProjections(fit.mean, fit);
    const tunedColumnMeans =
      (resolvePrecision(options.precision, tunedFeatures) === 'float32' &&
      options.engine !== 'javascript' &&
      tunedFeatures instanceof Float32Array
        ? columnMeansFloat32Wasm(tunedFeatures, rows, cols)
        : null) ?? columnMeans(tunedFeatures, rows, cols);
    const tunedMeans = meanProjections(tunedColumnMeans, fit);
    const deltas = Array.from(tunedMeans, (value, c) => value - baseMeans[c]!);
    const entry: PcaShiftLayer = {
      layer,
      base: Array.from(baseMeans),
      tuned: Array.from(tunedMeans),
      updated: [deltas[0]!, tunedMeans[1]!],
      original: [0, baseMeans[1]!],
      shift: Math.hypot(deltas[0]!, deltas[1]!),
      shiftAllComponents: Math.hypot(...deltas),
      explainedVarianceRatio: Array.from(fit.explainedVarianceRatio),
    };
    if (options.cka) {
      entry.cka = linearCkaFromGrams(
        gram,
        centredGram(tunedFeatures, rows, cols, tunedColumnMeans, gramOptions(options, tunedFeatures)).gram,
      );
    }
    result.push(entry);
    options.onLayer?.(result.length, indices.length);
  }
  const average = (pick: (layer: PcaShiftLayer) => number) =>
    result.reduce((sum, layer) => sum + pick(layer), 0) / result.length;
  const originalCentroid: [number, number] = [0, average((layer) => layer.original[1])];
  const updatedCentroid: [number, number] = [
    average((layer) => layer.updated[0]),
    average((layer) => layer.updated[1]),
  ];
  return {
    layers: result,
    originalCentroid,
    updatedCentroid,
    distance: Math.hypot(updatedCentroid[0] - originalCentroid[0], updatedCentroid[1] - originalCentroid[1]),
    numComponents: k,
    numTexts: rows,
    hiddenSize: cols,
  };
}

/**
 * The `hidden` request of the paper's released code: truncation to 128 tokens, left padding to the longest
 * text of each batch, mean over every position including padding, every hidden state.
 */
export function paperHiddenRequest(id: string, texts: readonly string[], batchSize = 16): HiddenRequestInput {
  return { id, texts: [...texts], maxLength: 128, pooling: 'mean-with-padding', batchSize };
}
