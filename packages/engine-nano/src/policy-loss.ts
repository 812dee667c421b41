import { type PolicyLoss, type TrainSequence, ValidationError } from '@xfer/core';
import type { FloatArray, MatmulBackend } from './kernels/matmul.js';
import {
  logSoftmaxRowsWasm,
  softmaxGradientRows,
  wasmElementwiseAvailable,
} from './kernels/wasm-elementwise.js';
import { allocate, type NanoModel } from './model.js';
import {
  backward,
  forward,
  type Gradients,
  logitsBackward,
  logitsFor,
  type PackedBatch,
  type Segment,
} from './transformer.js';

/** Training sequences packed into one batch, with the rows whose next-token prediction carries loss. */
export interface PackedSequences {
  batch: PackedBatch;
  /** Row predicting each completion token, in sequence order then token order. */
  lossRows: number[];
  targets: number[];
  /** Index of the sequence each loss row belongs to. */
  owners: number[];
}

/**
 * Pack sequences (prompt + completion, minus the last token, which predicts nothing) into one batch. Only
 * completion tokens carry loss: prompt tokens are context.
 */
export function packSequences(
  sequences: readonly TrainSequence[],
  vocabSize: number,
  maxLength: number,
  firstIndex = 0,
): PackedSequences {
  const lengths = sequences.map(
    (sequence) => sequence.promptTokenIds.length + sequence.completionTokenIds.length - 1,
  );
  const total = lengths.reduce((a, b) => a + b, 0);
  const tokens = new Int32Array(total);
  const segments: Segment[] = [];
  const lossRows: number[] = [];
  const targets: number[] = [];
  const owners: number[] = [];
  let start = 0;
  sequences.forEach((sequence, s) => {
    const field = `sequences[${firstIndex + s}]`;
    if (sequence.promptTokenIds.length === 0) {
      throw new ValidationError({
        field: `${field}.promptTokenIds`,
        message: 'needs at least one token (e.g. <|endoftext|>) to predict the first completion token from',
      });
    }
    const all = [...sequence.promptTokenIds, ...sequence.completionTokenIds];
    if (all.length - 1 > maxLength) {
      throw new ValidationError({
        field,
        message: `${all.length} tokens exceed max_position_embeddings ${maxLength}`,
      });
    }
    for (const [name, array] of [
      ['weights', sequence.weights],
      ['oldLogprobs', sequence.oldLogprobs],
      ['refLogprobs', sequence.refLogprobs],
    ] as const) {
      if (array !== undefined && array.length !== sequence.completionTokenIds.length) {
        throw new ValidationError({
          field: `${field}.${name}`,
          message: `has ${array.length} values for ${sequence.completionTokenIds.length} completion tokens`,
        });
      }
    }
    for (let i = 0; i < all.length - 1; i++) {
      const token = all[i]!;
      if (token >= vocabSize)
        throw new ValidationError({
          field,
          message: `token id ${token} is outside the vocabulary (${vocabSize})`,
        });
      tokens[start + i] = token;
    }
    const promptLength = sequence.promptTokenIds.length;
    sequence.completionTokenIds.forEach((token, t) => {
      if (token >= vocabSize)
        throw new ValidationError({
          field: `${field}.completionTokenIds`,
          message: `token id ${token} is outside the vocabulary (${vocabSize})`,
        });
      lossRows.push(start + promptLength - 1 + t);
      targets.push(token);
      owners.push(s);
    });
    segments.push({ start, length: all.length - 1 });
    start += all.length - 1;
  });
  return { batch: { tokens, segments }, lossRows, targets, owners };
}

/** Log-softmax of each row of `logits` in place; returns the row entropies. */
export function logSoftmaxRows(logits: FloatArray, rows: number, vocab: number): Float64Array {
  if (logits instanceof Float32Array && wasmElementwiseAvailable())
    return logSoftmaxRowsWasm(logits, rows, vocab);
  return logSoftmaxRowsJs(logits, rows, vocab);
}

/** The JavaScript reference of `logSoftmaxRows` (float64 models; tests). */
export function logSoftmaxRowsJs(logits: FloatArray, rows: number, vocab: number): Float64Array {
  const entropies = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) if (logits[base + j]! > max) max = logits[base + j]!;
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp(logits[base + j]! - max);
    const logSum = max + Math.log(sum);
    let entropy = 0;
    for (let j = 0; j < vocab; j++) {
      const value = logits[base + j]! - logSum;
      logits[base + j] = value;
      entropy -= Math.exp(value) * value;
    }
    entropies[r] = entropy;
  }
  return entropies;
}

/** Per-token logprobs of every sequence's completion under `model` (no gradient). */
export function completionLogprobs(
  model: NanoModel,
  backend: MatmulBackend,
  sequences: readonly TrainSequence[],
  firstIndex = 0,
): number[][] {
  const packed = packSequences(
    sequences,
    model.config.vocab_size,
    model.config.max_position_embeddings,
    firstIndex,
  );
  const { normed } = forward(model, backend, packed.batch);
  const { logits } = logitsFor(model, backend, normed, packed.lossRows);
  const vocab = model.config.vocab_size;
  logSoftmaxRows(logits, packed.lossRows.length, vocab);
  const result: number[][] = sequences.map(() => []);
  packed.targets.forEach((target, i) => {
    result[packed.owners[i]!]!.push(logits[i * vocab + target]!);
  });
  return result;
}

/** The outcome of one loss evaluation (and, with gradients, its backward). */
export interface PolicyLossOutcome {
  loss: number;
  tokens: number;
  clipFraction: number;
  kl: number;
  entropy: number;
  logprobs: number[][];
  /** The sums behind the three means (to combine the outcomes of a batch's shards). */
  sums: { clipped: number; kl: number; entropy: number };
}

/**
 * The whole batch a shard belongs to: its completion tokens and sequences (what `token-mean` and
 * `sequence-mean` divide by), and the index of the shard's first sequence in it (for error fields).
 */
export interface BatchShare {
  tokens: number;
  sequences: number;
  firstIndex: number;
}

/**
 * Evaluate the unified surrogate loss (see `PolicyLoss` in core) on a micro-batch and, when `gradients` is
 * given, add its gradient to them:
 * ℓ_t = −f_t + β·k3_t with f_t = w_t·log π (no clip) or min(r_t·w_t, clip(r_t, 1−ε_low, 1+ε_high)·w_t),
 * r_t = exp(log π − old), k3_t = exp(ref − log π) − (ref − log π) − 1; L = agg_t ℓ_t.
 * Without `oldLogprobs` the ratio is taken against the current (detached) logprobs.
 */
export function policyLoss(
  model: NanoModel,
  backend: MatmulBackend,
  sequences: readonly TrainSequence[],
  loss: PolicyLoss,
  options: {
    gradients?: Gradients;
    referenceLogprobs?: number[][];
    scale?: number;
    /** The batch this call is one shard of (default: the call is the whole batch). */
    batch?: BatchShare;
  } = {},
): PolicyLossOutcome {
  const config = model.config;
  const vocab = config.vocab_size;
  const firstIndex = options.batch?.firstIndex ?? 0;
  const packed = packSequences(sequences, vocab, config.max_position_embeddings, firstIndex);
  const train = options.gradients !== undefined;
  const result = forward(model, backend, packed.batch, { keepActivations: train });
  const { logits, selected } = logitsFor(model, backend, result.normed, packed.lossRows);
  const count = packed.lossRows.length;
  const entropies = logSoftmaxRows(logits, count, vocab);
  const logprobs: number[][] = sequences.map(() => []);
  const tokenIndex: number[] = [];
  for (let i = 0; i < count; i++) {
    const owner = packed.owners[i]!;
    tokenIndex.push(logprobs[owner]!.length);
    logprobs[owner]!.push(logits[i * vocab + packed.targets[i]!]!);
  }
  const useKl = loss.klBeta > 0;
  const batchTokens = options.batch?.tokens ?? count;
  const batchSequences = options.batch?.sequences ?? sequences.length;
  const completionCounts = sequences.map((sequence) => sequence.completionTokenIds.length);
  const divisor = loss.sumDivisor ?? 1;
  let total = 0;
  let clipped = 0;
  let klSum = 0;
  let entropySum = 0;
  const coefficients = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const s = packed.owners[i]!;
    const t = tokenIndex[i]!;
    const sequence = sequences[s]!;
    const logp = logprobs[s]![t]!;
    const weight = sequence.weights?.[t] ?? 1;
    let value: number;
    let gradient: number;
    if (loss.clip) {
      const old = sequence.oldLogprobs?.[t] ?? logp;
      const ratio = Math.exp(logp - old);
      const unclipped = ratio * weight;
      const bounded = Math.min(Math.max(ratio, 1 - loss.clip.low), 1 + loss.clip.high) * weight;
      if (bounded < unclipped) {
        value = bounded;
        gradient = 0;
        clipped++;
      } else {
        value = unclipped;
        gradient = unclipped;
      }
    } else {
      value = weight * logp;
      gradient = weight;
    }
    let tokenLoss = -value;
    let tokenGradient = -gradient;
    if (useKl) {
      const reference = sequence.refLogprobs?.[t] ?? options.referenceLogprobs?.[s]?.[t];
      if (reference === undefined) {
        throw new ValidationError({
          field: `sequences[${firstIndex + s}].refLogprobs`,
          message: 'klBeta > 0 needs reference logprobs or a snapshotted reference',
        });
      }
      const delta = reference - logp;
      const k3 = Math.exp(delta) - delta - 1;
      klSum += k3;
      tokenLoss += loss.klBeta * k3;
      tokenGradient += loss.klBeta * (1 - Math.exp(delta));
    }
    const share =
      loss.aggregation === 'token-mean'
        ? 1 / batchTokens
        : loss.aggregation === 'sequence-mean'
          ? 1 / (batchSequences * completionCounts[s]!)
          : 1 / divisor;
    total += share * tokenLoss;
    coefficients[i] = share * tokenGradient * (options.scale ?? 1);
    entropySum += entropies[i]!;
  }
  if (options.gradients && result.activations) {
    // d logp_target / d logits = onehot − softmax
    const dLogits = allocate(model.dtype, count * vocab);
    if (logits instanceof Float32Array && wasmElementwiseAvailable()) {
      softmaxGradientRows(logits, dLogits as Float32Array, count, vocab, coefficients);
    } else {
      for (let i = 0; i < count; i++) {
        const coefficient = coefficients[i]!;
        const base = i * vocab;
        for (let j = 0; j < vocab; j++) dLogits[base + j] = -coefficient * Math.exp(logits[base + j]!);
      }
    }
    for (let i = 0; i < count; i++) dLogits[i * vocab + packed.targets[i]!]! += coefficients[i]!;
    const dNormed = logitsBackward(
      model,
      backend,
      selected,
      dLogits,
      packed.lossRows,
      packed.batch.tokens.length,
      options.gradients,
    );
    backward(model, backend, result.activations, dNormed, options.gradients);
  }
  return {
    loss: total,
    tokens: count,
    clipFraction: count === 0 ? 0 : clipped / count,
    kl: useKl && count > 0 ? klSum / count : 0,
    entropy: count === 0 ? 0 : entropySum / count,
    logprobs,
    sums: { clipped, kl: klSum, entropy: entropySum },
  };
}
