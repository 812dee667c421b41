/**
 * The Qwen3 decoder math on packed batches: rows of several sequences concatenated, positions restarting
 * at 0 for each sequence, attention causal within a sequence. Forward keeps what backward needs; backward
 * is written by hand for every op and accumulates into a gradient map keyed like the model's tensors.
 */
import type { FloatArray, MatmulBackend } from './kernels/matmul.js';
import { softmaxCausalRows, swigluRows, wasmElementwiseAvailable } from './kernels/wasm-elementwise.js';
import { allocate, type NanoLayerWeights, type NanoModel } from './model.js';

/** One sequence of a packed batch: rows [start, start + length). */
export interface Segment {
  start: number;
  length: number;
  /** Position of the segment's first row (default 0). */
  positionOffset?: number;
}

/** Token ids of several sequences, concatenated. */
export interface PackedBatch {
  tokens: Int32Array;
  segments: Segment[];
}

/** What the forward pass of one block keeps for its backward. */
export interface LayerActivations {
  input: FloatArray;
  inverse1: FloatArray;
  normed1: FloatArray;
  qRaw: FloatArray;
  qInverse: FloatArray;
  kRaw: FloatArray;
  kInverse: FloatArray;
  qRot: FloatArray;
  kRot: FloatArray;
  v: FloatArray;
  probabilities: FloatArray;
  attention: FloatArray;
  middle: FloatArray;
  inverse2: FloatArray;
  normed2: FloatArray;
  gate: FloatArray;
  up: FloatArray;
  activated: FloatArray;
  /** exp(−gate) of every element, kept for the backward's sigmoid (double precision, as computed). */
  gateExp: Float64Array;
}

export interface Activations {
  batch: PackedBatch;
  layers: LayerActivations[];
  last: FloatArray;
  finalInverse: FloatArray;
}

export interface ForwardOptions {
  /** Keep activations for backward. */
  keepActivations?: boolean;
  /** Hidden state `index` (0 = embedding output, l = block l's output, the last one after the final norm). */
  onHidden?: (index: number, hidden: FloatArray) => void;
  /** Rotated keys and values of each block (for a KV cache). */
  onKeyValue?: (layer: number, keys: FloatArray, values: FloatArray) => void;
}

export interface ForwardResult {
  /** Output of the final norm, [rows, hidden]. */
  normed: FloatArray;
  activations?: Activations;
}

/** Rotary tables: cos/sin of position × inverse frequency, [positions, headDim/2]. */
export interface RotaryTables {
  cos: Float64Array;
  sin: Float64Array;
  half: number;
}

const rotaryCache = new Map<string, RotaryTables>();

/** Rotary tables computed as `transformers` does (inverse frequencies and angles in float32). */
export function rotaryTables(headDim: number, theta: number, positions: number): RotaryTables {
  const key = `${headDim}:${theta}:${positions}`;
  const cached = rotaryCache.get(key);
  if (cached) return cached;
  const half = headDim / 2;
  const cos = new Float64Array(positions * half);
  const sin = new Float64Array(positions * half);
  for (let i = 0; i < half; i++) {
    const inverse = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
    for (let p = 0; p < positions; p++) {
      const angle = Math.fround(p * inverse);
      cos[p * half + i] = Math.fround(Math.cos(angle));
      sin[p * half + i] = Math.fround(Math.sin(angle));
    }
  }
  const tables = { cos, sin, half };
  rotaryCache.set(key, tables);
  return tables;
}

/** y = x · rsqrt(mean(x²) + eps) · w per row; stores the reciprocal RMS of each row in `inverse`. */
export function rmsNormForward(
  x: FloatArray,
  weight: FloatArray,
  out: FloatArray,
  inverse: FloatArray | undefined,
  rows: number,
  dim: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) {
      const value = x[base + i]!;
      sum += value * value;
    }
    const inv = 1 / Math.sqrt(sum / dim + eps);
    if (inverse) inverse[r] = inv;
    for (let i = 0; i < dim; i++) out[base + i] = x[base + i]! * inv * weight[i]!;
  }
}

/** Backward of rmsNormForward: adds into dx and dWeight. */
export function rmsNormBackward(
  x: FloatArray,
  weight: FloatArray,
  inverse: FloatArray,
  dy: FloatArray,
  dx: FloatArray,
  dWeight: FloatArray,
  rows: number,
  dim: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    const inv = inverse[r]!;
    let dot = 0;
    for (let i = 0; i < dim; i++) {
      const g = dy[base + i]! * weight[i]!;
      dot += g * x[base + i]!;
      dWeight[i]! += dy[base + i]! * x[base + i]! * inv;
    }
    const coefficient = (inv * inv * inv * dot) / dim;
    for (let i = 0; i < dim; i++)
      dx[base + i]! += dy[base + i]! * weight[i]! * inv - x[base + i]! * coefficient;
  }
}

/** Rotate every head of `x` ([rows, heads·headDim]) in place by its row's position (rotate_half layout). */
export function ropeForward(
  x: FloatArray,
  positions: Int32Array,
  heads: number,
  headDim: number,
  tables: RotaryTables,
  sign = 1,
): void {
  const half = tables.half;
  const rows = positions.length;
  for (let r = 0; r < rows; r++) {
    const tableBase = positions[r]! * half;
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = tables.cos[tableBase + i]!;
        const s = sign * tables.sin[tableBase + i]!;
        const x1 = x[base + i]!;
        const x2 = x[base + half + i]!;
        x[base + i] = x1 * c - x2 * s;
        x[base + half + i] = x2 * c + x1 * s;
      }
    }
  }
}

/** Backward of ropeForward (rotation by the opposite angle), in place. */
export function ropeBackward(
  dx: FloatArray,
  positions: Int32Array,
  heads: number,
  headDim: number,
  tables: RotaryTables,
): void {
  ropeForward(dx, positions, heads, headDim, tables, -1);
}

function silu(value: number): number {
  return value / (1 + Math.exp(-value));
}

/** Positions of each row within its sequence. */
export function positionsOf(batch: PackedBatch): Int32Array {
  const positions = new Int32Array(batch.tokens.length);
  for (const segment of batch.segments) {
    const offset = segment.positionOffset ?? 0;
    for (let t = 0; t < segment.length; t++) positions[segment.start + t] = t + offset;
  }
  return positions;
}

interface AttentionShape {
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** Queries per attention block: a block of queries only looks at the keys up to its last row. */
const queryBlock = 64;

/** Floats of softmax probabilities one head keeps for a sequence of `length` (lower-triangular blocks). */
function probabilityFloats(length: number): number {
  let total = 0;
  for (let start = 0; start < length; start += queryBlock) {
    const rows = Math.min(queryBlock, length - start);
    total += rows * (start + rows);
  }
  return total;
}

/** Floats `attentionForward` keeps per layer for a batch. */
export function attentionProbabilityCount(segments: readonly Segment[], heads: number): number {
  return segments.reduce((sum, segment) => sum + probabilityFloats(segment.length), 0) * heads;
}

/**
 * Causal softmax, in place, of `rows` rows of `keys` scores (row r is query `first + r`), the JavaScript
 * reference of `softmaxCausalRows`: scaled scores (stored; the maximum over the unrounded products),
 * exp against the maximum summed in key order, normalised; keys after the query set to 0.
 */
export function softmaxCausalRowsJs(
  scores: FloatArray,
  rows: number,
  keys: number,
  first: number,
  scale: number,
): void {
  for (let r = 0; r < rows; r++) {
    const i = first + r;
    const row = r * keys;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= i; j++) {
      const value = scores[row + j]! * scale;
      scores[row + j] = value;
      if (value > max) max = value;
    }
    let sum = 0;
    for (let j = 0; j <= i; j++) {
      const e = Math.exp(scores[row + j]! - max);
      scores[row + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j <= i; j++) scores[row + j]! *= inv;
    for (let j = i + 1; j < keys; j++) scores[row + j] = 0;
  }
}

/**
 * SwiGLU: activated = silu(gate)·up for the first `n` values (in place when `activated` is `gate`), exp(−gate)
 * kept on request; in WebAssembly for float32 data (the same bits as `swigluRowsJs`).
 */
export function swiglu(
  gate: FloatArray,
  up: FloatArray,
  activated: FloatArray,
  n: number,
  gateExp?: Float64Array,
): void {
  if (
    gate instanceof Float32Array &&
    up instanceof Float32Array &&
    activated instanceof Float32Array &&
    wasmElementwiseAvailable()
  )
    swigluRows(gate, up, activated, n, gateExp);
  else swigluRowsJs(gate, up, activated, n, gateExp);
}

/** SwiGLU, the JavaScript reference of `swigluRows`: activated = silu(gate)·up, exp(−gate) kept on request. */
export function swigluRowsJs(
  gate: FloatArray,
  up: FloatArray,
  activated: FloatArray,
  n: number,
  gateExp?: Float64Array,
): void {
  if (gateExp) {
    for (let i = 0; i < n; i++) {
      const x = gate[i]!;
      const e = Math.exp(-x);
      gateExp[i] = e;
      activated[i] = (x / (1 + e)) * up[i]!;
    }
  } else {
    for (let i = 0; i < n; i++) activated[i] = silu(gate[i]!) * up[i]!;
  }
}

/**
 * Causal multi-head attention with grouped key/value heads over each segment, in blocks of 64 queries that
 * only multiply the keys they may see. Writes [rows, heads·headDim] into `out`; keeps the softmax
 * probabilities (per segment, head and block, [rows, keys]) in `probabilities` when given.
 */
export function attentionForward(
  shape: AttentionShape,
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  segments: readonly Segment[],
  out: FloatArray,
  probabilities: FloatArray | undefined,
  backend: MatmulBackend,
  dtype: NanoModel['dtype'],
): void {
  const { heads, kvHeads, headDim } = shape;
  const group = heads / kvHeads;
  const qWidth = heads * headDim;
  const kWidth = kvHeads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  let probabilityOffset = 0;
  const longest = Math.max(0, ...segments.map((segment) => segment.length));
  const qh = allocate(dtype, longest * headDim);
  const kh = allocate(dtype, longest * headDim);
  const vh = allocate(dtype, longest * headDim);
  const oh = allocate(dtype, longest * headDim);
  const scores = allocate(dtype, queryBlock * longest);
  // the WebAssembly softmax gives the same bits as the loop below (fdlibm's exp, as Math.exp)
  const fastSoftmax = dtype === 'float32' && wasmElementwiseAvailable();
  for (const { start, length: T } of segments) {
    for (let g = 0; g < kvHeads; g++) {
      gather(k, kh, start, T, kWidth, g * headDim, headDim);
      gather(v, vh, start, T, kWidth, g * headDim, headDim);
      for (let hi = 0; hi < group; hi++) {
        const h = g * group + hi;
        gather(q, qh, start, T, qWidth, h * headDim, headDim);
        for (let first = 0; first < T; first += queryBlock) {
          const rows = Math.min(queryBlock, T - first);
          const keys = first + rows;
          backend.nt(qh.subarray(first * headDim, keys * headDim), kh, scores, rows, headDim, keys);
          if (fastSoftmax) softmaxCausalRows(scores as Float32Array, rows, keys, first, scale);
          else softmaxCausalRowsJs(scores, rows, keys, first, scale);
          if (probabilities) {
            probabilities.set(scores.subarray(0, rows * keys), probabilityOffset);
            probabilityOffset += rows * keys;
          }
          backend.nn(scores, vh, oh.subarray(first * headDim, keys * headDim), rows, keys, headDim);
        }
        scatter(oh, out, start, T, qWidth, h * headDim, headDim, false);
      }
    }
  }
}

/** Backward of attentionForward: adds into dq, dk, dv. */
export function attentionBackward(
  shape: AttentionShape,
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  segments: readonly Segment[],
  probabilities: FloatArray,
  dOut: FloatArray,
  dq: FloatArray,
  dk: FloatArray,
  dv: FloatArray,
  backend: MatmulBackend,
  dtype: NanoModel['dtype'],
): void {
  const { heads, kvHeads, headDim } = shape;
  const group = heads / kvHeads;
  const qWidth = heads * headDim;
  const kWidth = kvHeads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const longest = Math.max(0, ...segments.map((segment) => segment.length));
  const qh = allocate(dtype, longest * headDim);
  const kh = allocate(dtype, longest * headDim);
  const vh = allocate(dtype, longest * headDim);
  const doh = allocate(dtype, longest * headDim);
  const dqh = allocate(dtype, longest * headDim);
  const dkh = allocate(dtype, longest * headDim);
  const dvh = allocate(dtype, longest * headDim);
  const dp = allocate(dtype, queryBlock * longest);
  let probabilityOffset = 0;
  for (const { start, length: T } of segments) {
    for (let g = 0; g < kvHeads; g++) {
      gather(k, kh, start, T, kWidth, g * headDim, headDim);
      gather(v, vh, start, T, kWidth, g * headDim, headDim);
      dkh.fill(0);
      dvh.fill(0);
      for (let hi = 0; hi < group; hi++) {
        const h = g * group + hi;
        gather(q, qh, start, T, qWidth, h * headDim, headDim);
        gather(dOut, doh, start, T, qWidth, h * headDim, headDim);
        for (let first = 0; first < T; first += queryBlock) {
          const rows = Math.min(queryBlock, T - first);
          const keys = first + rows;
          const p = probabilities.subarray(probabilityOffset, probabilityOffset + rows * keys);
          probabilityOffset += rows * keys;
          const dOutBlock = doh.subarray(first * headDim, keys * headDim);
          backend.nt(dOutBlock, vh, dp, rows, headDim, keys);
          backend.tn(p, dOutBlock, dvh, keys, rows, headDim, true);
          for (let r = 0; r < rows; r++) {
            const i = first + r;
            const row = r * keys;
            let dot = 0;
            for (let j = 0; j <= i; j++) dot += p[row + j]! * dp[row + j]!;
            for (let j = 0; j <= i; j++) dp[row + j] = p[row + j]! * (dp[row + j]! - dot) * scale;
            for (let j = i + 1; j < keys; j++) dp[row + j] = 0;
          }
          backend.nn(dp, kh, dqh.subarray(first * headDim, keys * headDim), rows, keys, headDim);
          backend.tn(dp, qh.subarray(first * headDim, keys * headDim), dkh, keys, rows, headDim, true);
        }
        scatter(dqh, dq, start, T, qWidth, h * headDim, headDim, true);
      }
      scatter(dkh, dk, start, T, kWidth, g * headDim, headDim, true);
      scatter(dvh, dv, start, T, kWidth, g * headDim, headDim, true);
    }
  }
}

function gather(
  source: FloatArray,
  target: FloatArray,
  start: number,
  rows: number,
  width: number,
  column: number,
  count: number,
): void {
  for (let r = 0; r < rows; r++) {
    const from = (start + r) * width + column;
    target.set(source.subarray(from, from + count), r * count);
  }
}

function scatter(
  source: FloatArray,
  target: FloatArray,
  start: number,
  rows: number,
  width: number,
  column: number,
  count: number,
  add: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    const to = (start + r) * width + column;
    if (add) for (let i = 0; i < count; i++) target[to + i]! += source[r * count + i]!;
    else target.set(source.subarray(r * count, r * count + count), to);
  }
}

/**
 * The forward pass of the decoder on a packed batch: embedding, blocks, final norm. Returns the normed
 * output of every row; the caller applies the (tied) language-model head to the rows it needs.
 */
export function forward(
  model: NanoModel,
  backend: MatmulBackend,
  batch: PackedBatch,
  options: ForwardOptions = {},
): ForwardResult {
  const config = model.config;
  const dtype = model.dtype;
  const rows = batch.tokens.length;
  const d = config.hidden_size;
  const f = config.intermediate_size;
  const hd = config.head_dim;
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads;
  const qWidth = heads * hd;
  const kWidth = kvHeads * hd;
  const eps = config.rms_norm_eps;
  const positions = positionsOf(batch);
  const longest = Math.max(
    1,
    ...batch.segments.map((segment) => segment.length + (segment.positionOffset ?? 0)),
  );
  if (longest > config.max_position_embeddings) {
    throw new RangeError(
      `sequence of ${longest} tokens exceeds max_position_embeddings ${config.max_position_embeddings}`,
    );
  }
  const tables = rotaryTables(hd, config.rope_theta, config.max_position_embeddings);
  const keep = options.keepActivations ?? false;
  let hidden = allocate(dtype, rows * d);
  for (let r = 0; r < rows; r++) {
    const token = batch.tokens[r]!;
    if (token < 0 || token >= config.vocab_size)
      throw new RangeError(`token id ${token} is outside the vocabulary (${config.vocab_size})`);
    hidden.set(model.embed.subarray(token * d, token * d + d), r * d);
  }
  options.onHidden?.(0, hidden);
  const layers: LayerActivations[] = [];
  const probabilityCount =
    batch.segments.reduce((sum, segment) => sum + segment.length * segment.length, 0) * heads;
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const w = model.layers[l]!;
    const input = hidden;
    const inverse1 = allocate(dtype, rows);
    const normed1 = allocate(dtype, rows * d);
    rmsNormForward(input, w.inputNorm, normed1, inverse1, rows, d, eps);
    const qRaw = allocate(dtype, rows * qWidth);
    const kRaw = allocate(dtype, rows * kWidth);
    const v = allocate(dtype, rows * kWidth);
    backend.nt(normed1, w.qProj, qRaw, rows, d, qWidth);
    backend.nt(normed1, w.kProj, kRaw, rows, d, kWidth);
    backend.nt(normed1, w.vProj, v, rows, d, kWidth);
    const qInverse = allocate(dtype, rows * heads);
    const kInverse = allocate(dtype, rows * kvHeads);
    const qRot = allocate(dtype, rows * qWidth);
    const kRot = allocate(dtype, rows * kWidth);
    rmsNormForward(qRaw, w.qNorm, qRot, qInverse, rows * heads, hd, eps);
    rmsNormForward(kRaw, w.kNorm, kRot, kInverse, rows * kvHeads, hd, eps);
    ropeForward(qRot, positions, heads, hd, tables);
    ropeForward(kRot, positions, kvHeads, hd, tables);
    options.onKeyValue?.(l, kRot, v);
    const attention = allocate(dtype, rows * qWidth);
    const probabilities = keep ? allocate(dtype, probabilityCount) : undefined;
    attentionForward(
      { heads, kvHeads, headDim: hd },
      qRot,
      kRot,
      v,
      batch.segments,
      attention,
      probabilities,
      backend,
      dtype,
    );
    const middle = allocate(dtype, rows * d);
    backend.nt(attention, w.oProj, middle, rows, qWidth, d);
    for (let i = 0; i < rows * d; i++) middle[i]! += input[i]!;
    const inverse2 = allocate(dtype, rows);
    const normed2 = allocate(dtype, rows * d);
    rmsNormForward(middle, w.postNorm, normed2, inverse2, rows, d, eps);
    const gate = allocate(dtype, rows * f);
    const up = allocate(dtype, rows * f);
    backend.nt(normed2, w.gateProj, gate, rows, d, f);
    backend.nt(normed2, w.upProj, up, rows, d, f);
    const activated = allocate(dtype, rows * f);
    const gateExp = keep ? (allocate('float64', rows * f) as Float64Array) : undefined;
    swiglu(gate, up, activated, rows * f, gateExp);
    const output = allocate(dtype, rows * d);
    backend.nt(activated, w.downProj, output, rows, f, d);
    for (let i = 0; i < rows * d; i++) output[i]! += middle[i]!;
    if (keep) {
      layers.push({
        input,
        inverse1,
        normed1,
        qRaw,
        qInverse,
        kRaw,
        kInverse,
        qRot,
        kRot,
        v,
        probabilities: probabilities!,
        attention,
        middle,
        inverse2,
        normed2,
        gate,
        up,
        activated,
        gateExp: gateExp!,
      });
    }
    hidden = output;
    if (l < config.num_hidden_layers - 1) options.onHidden?.(l + 1, hidden);
  }
  const finalInverse = allocate(dtype, rows);
  const normed = allocate(dtype, rows * d);
  rmsNormForward(hidden, model.finalNorm, normed, finalInverse, rows, d, eps);
  options.onHidden?.(config.num_hidden_layers, normed);
  return keep ? { normed, activations: { batch, layers, last: hidden, finalInverse } } : { normed };
}

/** Gradient buffers keyed like the model's tensors. */
export type Gradients = Map<string, FloatArray>;

/** Zeroed gradient buffers for every tensor of a model. */
export function zeroGradients(model: NanoModel): Gradients {
  const gradients: Gradients = new Map();
  for (const [name, data] of model.tensors) gradients.set(name, allocate(model.dtype, data.length));
  return gradients;
}

function layerGradients(gradients: Gradients, l: number): NanoLayerWeights {
  const p = `model.layers.${l}`;
  const get = (name: string) => gradients.get(`${p}.${name}`)!;
  return {
    inputNorm: get('input_layernorm.weight'),
    qProj: get('self_attn.q_proj.weight'),
    kProj: get('self_attn.k_proj.weight'),
    vProj: get('self_attn.v_proj.weight'),
    oProj: get('self_attn.o_proj.weight'),
    qNorm: get('self_attn.q_norm.weight'),
    kNorm: get('self_attn.k_norm.weight'),
    postNorm: get('post_attention_layernorm.weight'),
    gateProj: get('mlp.gate_proj.weight'),
    upProj: get('mlp.up_proj.weight'),
    downProj: get('mlp.down_proj.weight'),
  };
}

/**
 * Backward of `forward`, from the gradient of the final-norm output (`dNormed`, [rows, hidden]); adds every
 * tensor's gradient into `gradients`.
 */
export function backward(
  model: NanoModel,
  backend: MatmulBackend,
  activations: Activations,
  dNormed: FloatArray,
  gradients: Gradients,
): void {
  const config = model.config;
  const dtype = model.dtype;
  const batch = activations.batch;
  const rows = batch.tokens.length;
  const d = config.hidden_size;
  const f = config.intermediate_size;
  const hd = config.head_dim;
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads;
  const qWidth = heads * hd;
  const kWidth = kvHeads * hd;
  const positions = positionsOf(batch);
  const tables = rotaryTables(hd, config.rope_theta, config.max_position_embeddings);
  let dHidden = allocate(dtype, rows * d);
  rmsNormBackward(
    activations.last,
    model.finalNorm,
    activations.finalInverse,
    dNormed,
    dHidden,
    gradients.get('model.norm.weight')!,
    rows,
    d,
  );
  for (let l = config.num_hidden_layers - 1; l >= 0; l--) {
    const w = model.layers[l]!;
    const g = layerGradients(gradients, l);
    const a = activations.layers[l]!;
    // MLP: output = middle + down(silu(gate) * up)
    const dActivated = allocate(dtype, rows * f);
    backend.nn(dHidden, w.downProj, dActivated, rows, d, f);
    backend.tn(dHidden, a.activated, g.downProj, d, rows, f, true);
    const dGate = allocate(dtype, rows * f);
    const dUp = allocate(dtype, rows * f);
    for (let i = 0; i < rows * f; i++) {
      const x = a.gate[i]!;
      const s = 1 / (1 + a.gateExp[i]!);
      const da = dActivated[i]!;
      dUp[i] = da * x * s;
      dGate[i] = da * a.up[i]! * (s + x * s * (1 - s));
    }
    const dNormed2 = allocate(dtype, rows * d);
    backend.nn(dGate, w.gateProj, dNormed2, rows, f, d);
    backend.nn(dUp, w.upProj, dNormed2, rows, f, d, true);
    backend.tn(dGate, a.normed2, g.gateProj, f, rows, d, true);
    backend.tn(dUp, a.normed2, g.upProj, f, rows, d, true);
    const dMiddle = dHidden; // the residual passes dHidden through unchanged
    rmsNormBackward(a.middle, w.postNorm, a.inverse2, dNormed2, dMiddle, g.postNorm, rows, d);
    // attention: middle = input + o(attention)
    const dAttention = allocate(dtype, rows * qWidth);
    backend.nn(dMiddle, w.oProj, dAttention, rows, d, qWidth);
    backend.tn(dMiddle, a.attention, g.oProj, d, rows, qWidth, true);
    const dq = allocate(dtype, rows * qWidth);
    const dk = allocate(dtype, rows * kWidth);
    const dv = allocate(dtype, rows * kWidth);
    attentionBackward(
      { heads, kvHeads, headDim: hd },
      a.qRot,
      a.kRot,
      a.v,
      batch.segments,
      a.probabilities,
      dAttention,
      dq,
      dk,
      dv,
      backend,
      dtype,
    );
    ropeBackward(dq, positions, heads, hd, tables);
    ropeBackward(dk, positions, kvHeads, hd, tables);
    const dqRaw = allocate(dtype, rows * qWidth);
    const dkRaw = allocate(dtype, rows * kWidth);
    rmsNormBackward(a.qRaw, w.qNorm, a.qInverse, dq, dqRaw, g.qNorm, rows * heads, hd);
    rmsNormBackward(a.kRaw, w.kNorm, a.kInverse, dk, dkRaw, g.kNorm, rows * kvHeads, hd);
    const dNormed1 = allocate(dtype, rows * d);
    backend.nn(dqRaw, w.qProj, dNormed1, rows, qWidth, d);
    backend.nn(dkRaw, w.kProj, dNormed1, rows, kWidth, d, true);
    backend.nn(dv, w.vProj, dNormed1, rows, kWidth, d, true);
    backend.tn(dqRaw, a.normed1, g.qProj, qWidth, rows, d, true);
    backend.tn(dkRaw, a.normed1, g.kProj, kWidth, rows, d, true);
    backend.tn(dv, a.normed1, g.vProj, kWidth, rows, d, true);
    const dInput = dMiddle;
    rmsNormBackward(a.input, w.inputNorm, a.inverse1, dNormed1, dInput, g.inputNorm, rows, d);
    dHidden = dInput;
  }
  const dEmbed = gradients.get('model.embed_tokens.weight')!;
  for (let r = 0; r < rows; r++) {
    const token = batch.tokens[r]!;
    for (let i = 0; i < d; i++) dEmbed[token * d + i]! += dHidden[r * d + i]!;
  }
}

/** Language-model head (tied): logits[rows, vocab] = normed[selected rows] · embedᵀ. */
export function logitsFor(
  model: NanoModel,
  backend: MatmulBackend,
  normed: FloatArray,
  rowIndices: readonly number[],
): { logits: FloatArray; selected: FloatArray } {
  const d = model.config.hidden_size;
  const vocab = model.config.vocab_size;
  const selected = allocate(model.dtype, rowIndices.length * d);
  rowIndices.forEach((row, i) => {
    selected.set(normed.subarray(row * d, row * d + d), i * d);
  });
  const logits = allocate(model.dtype, rowIndices.length * vocab);
  backend.nt(selected, model.embed, logits, rowIndices.length, d, vocab);
  return { logits, selected };
}

/** Backward of logitsFor: returns dNormed ([all rows, hidden]) and adds the head's part of dEmbed. */
export function logitsBackward(
  model: NanoModel,
  backend: MatmulBackend,
  selected: FloatArray,
  dLogits: FloatArray,
  rowIndices: readonly number[],
  totalRows: number,
  gradients: Gradients,
): FloatArray {
  const d = model.config.hidden_size;
  const vocab = model.config.vocab_size;
  const count = rowIndices.length;
  const dSelected = allocate(model.dtype, count * d);
  backend.nn(dLogits, model.embed, dSelected, count, vocab, d);
  backend.tn(dLogits, selected, gradients.get('model.embed_tokens.weight')!, vocab, count, d, true);
  const dNormed = allocate(model.dtype, totalRows * d);
  rowIndices.forEach((row, i) => {
    for (let j = 0; j < d; j++) dNormed[row * d + j]! += dSelected[i * d + j]!;
  });
  return dNormed;
}
