/** Incremental decoding with a per-sequence key/value cache. */
import type { FloatArray, MatmulBackend, PreparedWeight } from './kernels/matmul.js';
import { allocate, type NanoModel } from './model.js';
import { rmsNormForward, ropeForward, rotaryTables, swiglu } from './transformer.js';

/** Keys (rotated) and values of one sequence, per layer, [max positions, kvHeads·headDim]. */
export interface KeyValueCache {
  keys: FloatArray[];
  values: FloatArray[];
  /** Positions filled. */
  length: number;
}

export function createCache(model: NanoModel): KeyValueCache {
  const config = model.config;
  const width = config.num_key_value_heads * config.head_dim;
  const size = config.max_position_embeddings * width;
  const keys: FloatArray[] = [];
  const values: FloatArray[] = [];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    keys.push(allocate(model.dtype, size));
    values.push(allocate(model.dtype, size));
  }
  return { keys, values, length: 0 };
}

/** A model's matrices laid out once for a backend, reused by every decoding step of a call. */
export interface PreparedModel {
  layers: {
    q: PreparedWeight;
    k: PreparedWeight;
    v: PreparedWeight;
    o: PreparedWeight;
    gate: PreparedWeight;
    up: PreparedWeight;
    down: PreparedWeight;
  }[];
  head: PreparedWeight;
}

/** Prepare every matrix of a model for `decodeStep` (weights must not change while it is in use). */
export function prepareModel(model: NanoModel, backend: MatmulBackend): PreparedModel {
  const c = model.config;
  const d = c.hidden_size;
  const qWidth = c.num_attention_heads * c.head_dim;
  const kWidth = c.num_key_value_heads * c.head_dim;
  const f = c.intermediate_size;
  const prepared = {
    layers: model.layers.map((w) => ({
      q: backend.prepare(w.qProj, qWidth, d),
      k: backend.prepare(w.kProj, kWidth, d),
      v: backend.prepare(w.vProj, kWidth, d),
      o: backend.prepare(w.oProj, d, qWidth),
      gate: backend.prepare(w.gateProj, f, d),
      up: backend.prepare(w.upProj, f, d),
      down: backend.prepare(w.downProj, d, f),
    })),
    head: backend.prepare(model.embed, c.vocab_size, d),
  };
  backend.makeResident([...prepared.layers.flatMap((layer) => Object.values(layer)), prepared.head]);
  return prepared;
}

/**
 * One decoding step for several sequences: row i feeds `tokens[i]` at position `caches[i].length`, appends
 * its key/value to that cache, and returns logits [rows, vocab]. Each row's arithmetic is independent of
 * the other rows.
 */
export function decodeStep(
  model: NanoModel,
  backend: MatmulBackend,
  tokens: readonly number[],
  caches: readonly KeyValueCache[],
  prepared: PreparedModel = prepareModel(model, backend),
): FloatArray {
  const config = model.config;
  const dtype = model.dtype;
  const rows = tokens.length;
  const d = config.hidden_size;
  const f = config.intermediate_size;
  const hd = config.head_dim;
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads;
  const group = heads / kvHeads;
  const qWidth = heads * hd;
  const kWidth = kvHeads * hd;
  const eps = config.rms_norm_eps;
  const tables = rotaryTables(hd, config.rope_theta, config.max_position_embeddings);
  const positions = Int32Array.from(caches.map((cache) => cache.length));
  for (const position of positions) {
    if (position >= config.max_position_embeddings)
      throw new RangeError(`position ${position} exceeds max_position_embeddings`);
  }
  const hidden = allocate(dtype, rows * d);
  tokens.forEach((token, r) => {
    hidden.set(model.embed.subarray(token * d, token * d + d), r * d);
  });
  const normed = allocate(dtype, rows * d);
  const q = allocate(dtype, rows * qWidth);
  const k = allocate(dtype, rows * kWidth);
  const v = allocate(dtype, rows * kWidth);
  const attention = allocate(dtype, rows * qWidth);
  const projected = allocate(dtype, rows * d);
  const gate = allocate(dtype, rows * f);
  const up = allocate(dtype, rows * f);
  const scale = 1 / Math.sqrt(hd);
  const longest = Math.max(...positions) + 1;
  const scores = new Float64Array(longest);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const w = model.layers[l]!;
    const p = prepared.layers[l]!;
    rmsNormForward(hidden, w.inputNorm, normed, undefined, rows, d, eps);
    backend.ntPrepared(normed, p.q, q, rows);
    backend.ntPrepared(normed, p.k, k, rows);
    backend.ntPrepared(normed, p.v, v, rows);
    rmsNormForward(q, w.qNorm, q, undefined, rows * heads, hd, eps);
    rmsNormForward(k, w.kNorm, k, undefined, rows * kvHeads, hd, eps);
    ropeForward(q, positions, heads, hd, tables);
    ropeForward(k, positions, kvHeads, hd, tables);
    for (let r = 0; r < rows; r++) {
      const cache = caches[r]!;
      const position = positions[r]!;
      const keys = cache.keys[l]!;
      const values = cache.values[l]!;
      keys.set(k.subarray(r * kWidth, (r + 1) * kWidth), position * kWidth);
      values.set(v.subarray(r * kWidth, (r + 1) * kWidth), position * kWidth);
      for (let h = 0; h < heads; h++) {
        const g = Math.floor(h / group);
        const qBase = r * qWidth + h * hd;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j <= position; j++) {
          const kBase = j * kWidth + g * hd;
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[qBase + i]! * keys[kBase + i]!;
          const value = dot * scale;
          scores[j] = value;
          if (value > max) max = value;
        }
        let sum = 0;
        for (let j = 0; j <= position; j++) {
          const e = Math.exp(scores[j]! - max);
          scores[j] = e;
          sum += e;
        }
        const outBase = r * qWidth + h * hd;
        for (let i = 0; i < hd; i++) attention[outBase + i] = 0;
        for (let j = 0; j <= position; j++) {
          const p = scores[j]! / sum;
          const vBase = j * kWidth + g * hd;
          for (let i = 0; i < hd; i++) attention[outBase + i]! += p * values[vBase + i]!;
        }
      }
    }
    backend.ntPrepared(attention, p.o, projected, rows);
    for (let i = 0; i < rows * d; i++) hidden[i]! += projected[i]!;
    rmsNormForward(hidden, w.postNorm, normed, undefined, rows, d, eps);
    backend.ntPrepared(normed, p.gate, gate, rows);
    backend.ntPrepared(normed, p.up, up, rows);
    swiglu(gate, up, gate, rows * f);
    backend.ntPrepared(gate, p.down, projected, rows);
    for (let i = 0; i < rows * d; i++) hidden[i]! += projected[i]!;
  }
  for (const cache of caches) cache.length++;
  rmsNormForward(hidden, model.finalNorm, normed, undefined, rows, d, eps);
  const logits = allocate(dtype, rows * config.vocab_size);
  backend.ntPrepared(normed, prepared.head, logits, rows);
  return logits;
}
