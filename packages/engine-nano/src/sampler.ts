import type { SamplingParams } from '@xfer/core';
import type { FloatArray } from './kernels/matmul.js';
import type { SeededRandom } from './random.js';

/** Log-softmax of one row (temperature 1): the model's own log-probabilities. */
export function logSoftmax(logits: FloatArray, offset: number, vocab: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < vocab; j++) if (logits[offset + j]! > max) max = logits[offset + j]!;
  let sum = 0;
  for (let j = 0; j < vocab; j++) sum += Math.exp(logits[offset + j]! - max);
  const logSum = max + Math.log(sum);
  const out = new Float64Array(vocab);
  for (let j = 0; j < vocab; j++) out[j] = logits[offset + j]! - logSum;
  return out;
}

/**
 * Choose the next token from log-probabilities: greedy at temperature 0 (lowest id on ties), otherwise
 * temperature, then top-k, then top-p (nucleus) filtering, then one draw from `random`. `allowed` limits
 * the choice to the tokenizer's ids (padding rows of the embedding are never sampled).
 */
export function sampleToken(
  logprobs: Float64Array,
  sampling: SamplingParams,
  random: SeededRandom,
  allowed: number,
): number {
  if (sampling.temperature === 0) {
    let best = 0;
    for (let j = 1; j < allowed; j++) if (logprobs[j]! > logprobs[best]!) best = j;
    return best;
  }
  if (sampling.topK <= 0 && sampling.topP >= 1) {
    // plain temperature sampling: no need to sort
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < allowed; j++) if (logprobs[j]! > max) max = logprobs[j]!;
    const weights = new Float64Array(allowed);
    let mass = 0;
    for (let j = 0; j < allowed; j++) {
      weights[j] = Math.exp((logprobs[j]! - max) / sampling.temperature);
      mass += weights[j]!;
    }
    let draw = random.nextFloat() * mass;
    for (let j = 0; j < allowed; j++) {
      draw -= weights[j]!;
      if (draw < 0) return j;
    }
    return allowed - 1;
  }
  const order = Array.from({ length: allowed }, (_, j) => j);
  order.sort((a, b) => logprobs[b]! - logprobs[a]! || a - b);
  const keep = sampling.topK > 0 ? Math.min(sampling.topK, allowed) : allowed;
  const scaled = new Float64Array(keep);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < keep; i++) {
    scaled[i] = logprobs[order[i]!]! / sampling.temperature;
    if (scaled[i]! > max) max = scaled[i]!;
  }
  let sum = 0;
  for (let i = 0; i < keep; i++) {
    scaled[i] = Math.exp(scaled[i]! - max);
    sum += scaled[i]!;
  }
  let cutoff = keep;
  if (sampling.topP < 1) {
    let cumulative = 0;
    for (let i = 0; i < keep; i++) {
      cumulative += scaled[i]! / sum;
      if (cumulative >= sampling.topP) {
        cutoff = i + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let i = 0; i < cutoff; i++) mass += scaled[i]!;
  let draw = random.nextFloat() * mass;
  for (let i = 0; i < cutoff; i++) {
    draw -= scaled[i]!;
    if (draw < 0) return order[i]!;
  }
  return order[cutoff - 1]!;
}
