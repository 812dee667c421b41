import type { PolicyLossInput } from '@xfer/core';
import { PolicyLossSchema } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { jsMatmul } from './kernels/matmul.js';
import { createNanoModel, type NanoModel } from './model.js';
import { policyLoss } from './policy-loss.js';
import { SeededRandom } from './random.js';
import {
  attentionBackward,
  attentionForward,
  attentionProbabilityCount,
  type Gradients,
  rmsNormBackward,
  rmsNormForward,
  ropeBackward,
  ropeForward,
  rotaryTables,
  zeroGradients,
} from './transformer.js';

const tiny = {
  vocab_size: 264,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 4,
  max_position_embeddings: 16,
};

function randomArray(random: SeededRandom, length: number, scale = 1): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = scale * random.nextNormal();
  return out;
}

/** Central finite difference of scalar f with respect to x[i]. */
function numeric(f: () => number, x: Float64Array, i: number, h = 1e-6): number {
  const saved = x[i]!;
  x[i] = saved + h;
  const plus = f();
  x[i] = saved - h;
  const minus = f();
  x[i] = saved;
  return (plus - minus) / (2 * h);
}

function expectClose(analytic: number, numericValue: number, tolerance = 1e-6): void {
  const scale = Math.max(1, Math.abs(analytic), Math.abs(numericValue));
  expect(Math.abs(analytic - numericValue) / scale).toBeLessThan(tolerance);
}

describe('op backward vs finite differences (float64)', () => {
  const random = new SeededRandom(7);

  it('rmsNorm: input and weight', () => {
    const rows = 3;
    const dim = 5;
    const x = randomArray(random, rows * dim);
    const w = randomArray(random, dim);
    const probe = randomArray(random, rows * dim);
    const f = () => {
      const y = new Float64Array(rows * dim);
      rmsNormForward(x, w, y, undefined, rows, dim, 1e-6);
      return y.reduce((sum, value, i) => sum + value * probe[i]!, 0);
    };
    const inverse = new Float64Array(rows);
    rmsNormForward(x, w, new Float64Array(rows * dim), inverse, rows, dim, 1e-6);
    const dx = new Float64Array(rows * dim);
    const dw = new Float64Array(dim);
    rmsNormBackward(x, w, inverse, probe, dx, dw, rows, dim);
    for (let i = 0; i < x.length; i++) expectClose(dx[i]!, numeric(f, x, i));
    for (let i = 0; i < w.length; i++) expectClose(dw[i]!, numeric(f, w, i));
  });

  it('rope: input', () => {
    const heads = 2;
    const headDim = 6;
    const positions = Int32Array.from([0, 3, 7]);
    const tables = rotaryTables(headDim, 10000, 16);
    const x = randomArray(random, 3 * heads * headDim);
    const probe = randomArray(random, x.length);
    const f = () => {
      const y = Float64Array.from(x);
      ropeForward(y, positions, heads, headDim, tables);
      return y.reduce((sum, value, i) => sum + value * probe[i]!, 0);
    };
    const dx = Float64Array.from(probe);
    ropeBackward(dx, positions, heads, headDim, tables);
    for (let i = 0; i < x.length; i++) expectClose(dx[i]!, numeric(f, x, i));
  });

  it('grouped causal attention over two segments: q, k and v', () => {
    const shape = { heads: 4, kvHeads: 2, headDim: 3 };
    const segments = [
      { start: 0, length: 3 },
      { start: 3, length: 66 },
    ];
    const rows = 69;
    const q = randomArray(random, rows * 12);
    const k = randomArray(random, rows * 6);
    const v = randomArray(random, rows * 6);
    const probe = randomArray(random, rows * 12);
    const f = () => {
      const out = new Float64Array(rows * 12);
      attentionForward(shape, q, k, v, segments, out, undefined, jsMatmul, 'float64');
      return out.reduce((sum, value, i) => sum + value * probe[i]!, 0);
    };
    const probabilities = new Float64Array(attentionProbabilityCount(segments, 4));
    attentionForward(
      shape,
      q,
      k,
      v,
      segments,
      new Float64Array(rows * 12),
      probabilities,
      jsMatmul,
      'float64',
    );
    const dq = new Float64Array(q.length);
    const dk = new Float64Array(k.length);
    const dv = new Float64Array(v.length);
    attentionBackward(shape, q, k, v, segments, probabilities, probe, dq, dk, dv, jsMatmul, 'float64');
    // every entry of the short segment and of the last rows (past the 64-query block), a sample elsewhere
    const picks = (width: number) =>
      Array.from({ length: rows * width }, (_, i) => i).filter(
        (i) => i < 3 * width || i >= 62 * width || i % 11 === 0,
      );
    for (const i of picks(12)) expectClose(dq[i]!, numeric(f, q, i));
    for (const i of picks(6)) expectClose(dk[i]!, numeric(f, k, i));
    for (const i of picks(6)) expectClose(dv[i]!, numeric(f, v, i));
  });
});

function perturbedModel(seed: number): NanoModel {
  const model = createNanoModel(tiny, seed, { dtype: 'float64' });
  const random = new SeededRandom(seed + 1);
  // norm weights start at 1; move them so their gradients are exercised in general position
  for (const [name, data] of model.tensors) {
    if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight'))
      for (let i = 0; i < data.length; i++) data[i] = 1 + 0.3 * random.nextNormal();
    else for (let i = 0; i < data.length; i++) data[i] = data[i]! * 10;
  }
  return model;
}

const sequences = [
  {
    promptTokenIds: [256, 72, 105],
    completionTokenIds: [33, 10, 258],
    weights: [1.5, -0.5, 2],
    oldLogprobs: [-5.4, -5.7, -5.5],
    refLogprobs: [-5.6, -5.5, -5.4],
  },
  {
    promptTokenIds: [256],
    completionTokenIds: [97, 98, 99, 100, 258],
    weights: [0.3, 1, -1, 2, 0.7],
    oldLogprobs: [-5.5, -5.6, -5.4, -5.5, -5.6],
    refLogprobs: [-5.5, -5.3, -5.6, -5.5, -5.7],
  },
];

function checkModelGradients(lossInput: PolicyLossInput, seed: number): void {
  const model = perturbedModel(seed);
  const loss = PolicyLossSchema.parse(lossInput);
  const gradients: Gradients = zeroGradients(model);
  const outcome = policyLoss(model, jsMatmul, sequences, loss, { gradients });
  // the clipped case must actually clip some tokens and leave others, or it would test nothing
  if (loss.clip) expect(outcome.clipFraction).toBeGreaterThan(0);
  if (loss.clip) expect(outcome.clipFraction).toBeLessThan(1);
  const f = () => policyLoss(model, jsMatmul, sequences, loss).loss;
  const random = new SeededRandom(seed + 2);
  for (const [name, data] of model.tensors) {
    const gradient = gradients.get(name)!;
    const picks = name.includes('embed')
      ? [72 * 8 + 1, 97 * 8 + 3, 33 * 8, 258 * 8 + 5, 10 * 8 + 7]
      : [0, 1, 2, 3].map(() => Math.floor(random.nextFloat() * data.length));
    for (const index of picks) expectClose(gradient[index]!, numeric(f, data as Float64Array, index), 2e-6);
  }
}

describe('whole-model gradient vs finite differences (float64)', () => {
  it('weighted log-likelihood, token-mean', () => checkModelGradients({}, 11));
  it('PPO clip with KL, sequence-mean', () =>
    checkModelGradients({ clip: { low: 0.2, high: 0.28 }, klBeta: 0.3, aggregation: 'sequence-mean' }, 12));
  it('KL only, token-sum with a divisor', () =>
    checkModelGradients({ klBeta: 1, aggregation: 'token-sum', sumDivisor: 7 }, 13));
});
