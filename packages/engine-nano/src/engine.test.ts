import {
  type GenerateRequestInput,
  GenerateRequestSchema,
  generateAll,
  type HiddenRequestInput,
  HiddenRequestSchema,
  type ScoreRequestInput,
  ScoreRequestSchema,
} from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { createCache, decodeStep } from './decode.js';
import { NanoEngine } from './engine.js';
import { backendFor } from './kernels/backend.js';
import { createNanoModel } from './model.js';
import { logSoftmax } from './sampler.js';
import { encodeText } from './tokenizer.js';
import { forward, logitsFor } from './transformer.js';

const config = {
  vocab_size: 264,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  max_position_embeddings: 96,
};

function spreadModel(seed: number) {
  // scale the init up so the distribution is far from uniform and sampling choices matter
  const model = createNanoModel(config, seed);
  for (const [name, data] of model.tensors)
    if (!name.includes('norm')) for (let i = 0; i < data.length; i++) data[i] = data[i]! * 12;
  return model;
}

describe('NanoEngine.generate', () => {
  const engine = new NanoEngine(spreadModel(1), { maxBatchSize: 3 });
  const run = (inputs: GenerateRequestInput[]) =>
    generateAll(
      engine,
      inputs.map((input) => GenerateRequestSchema.parse(input)),
    );
  const sampling = { temperature: 0.9, topP: 0.9, topK: 40, maxTokens: 24, logprobs: true };

  it('gives the same text for the same request and seed whatever else is in the batch', async () => {
    const target = { id: 'target', prompt: 'The answer is', sampling: { ...sampling, seed: 42 } };
    const alone = await run([target]);
    const others = Array.from({ length: 5 }, (_, i) => ({
      id: `other-${i}`,
      prompt: 'x'.repeat(i * 7 + 1),
      sampling: { ...sampling, seed: i },
    }));
    const crowded = await run([...others.slice(0, 2), target, ...others.slice(2)]);
    const inCrowd = crowded.find((result) => result.id === 'target')!;
    expect(inCrowd.text).toBe(alone[0]!.text);
    expect(inCrowd.tokenIds).toEqual(alone[0]!.tokenIds);
    expect(inCrowd.logprobs).toEqual(alone[0]!.logprobs);
    // different seeds give different samples (the test would be vacuous otherwise)
    const reseeded = await run([{ ...target, sampling: { ...target.sampling, seed: 43 } }]);
    expect(reseeded[0]!.tokenIds).not.toEqual(alone[0]!.tokenIds);
  });

  it('honours maxTokens, stop sequences and reports finish reasons and logprobs', async () => {
    const [long] = await run([{ id: 'a', prompt: 'abc', sampling: { ...sampling, seed: 3, maxTokens: 7 } }]);
    expect(long!.completionTokens).toBeLessThanOrEqual(7);
    expect(long!.finishReason).toBe('length');
    expect(long!.logprobs).toHaveLength(long!.completionTokens);
    for (const logprob of long!.logprobs!) expect(logprob).toBeLessThanOrEqual(0);
    // a stop string taken from an unconstrained sample cuts the text before it
    const [free] = await run([{ id: 'b', prompt: 'abc', sampling: { ...sampling, seed: 5, maxTokens: 24 } }]);
    const stop = free!.text.slice(3, 5);
    expect(stop).toHaveLength(2);
    const [stopped] = await run([
      { id: 'c', prompt: 'abc', sampling: { ...sampling, seed: 5, maxTokens: 24, stop: [stop] } },
    ]);
    expect(stopped!.finishReason).toBe('stop');
    expect(stopped!.text).toBe(free!.text.slice(0, free!.text.indexOf(stop)));
  });

  it('greedy decoding picks the argmax of score at every step', async () => {
    const [greedy] = await run([
      { id: 'g', prompt: 'Hello', sampling: { temperature: 0, maxTokens: 12, logprobs: true } },
    ]);
    const ids = greedy!.tokenIds!;
    const model = engine.model;
    const tokens = [...encodeText('Hello'), ...ids];
    const { normed } = forward(model, backendFor('float32'), {
      tokens: Int32Array.from(tokens),
      segments: [{ start: 0, length: tokens.length }],
    });
    const rows = ids.map((_, t) => 4 + t);
    const { logits } = logitsFor(model, backendFor('float32'), normed, rows);
    ids.forEach((id, t) => {
      const logprobs = logSoftmax(logits, t * config.vocab_size, config.vocab_size);
      const best = logprobs.indexOf(Math.max(...logprobs.slice(0, 261)));
      expect(id).toBe(best);
      expect(Math.abs(logprobs[id]! - greedy!.logprobs![t]!)).toBeLessThan(1e-4);
    });
  });
});

describe('KV cache', () => {
  it('incremental decoding equals a full recompute at every position', () => {
    const model = spreadModel(2);
    const backend = backendFor('float32');
    const tokens = encodeText('Pack my box with five dozen liquor jugs.');
    const { normed } = forward(model, backend, {
      tokens: Int32Array.from(tokens),
      segments: [{ start: 0, length: tokens.length }],
    });
    const { logits: full } = logitsFor(
      model,
      backend,
      normed,
      tokens.map((_, i) => i),
    );
    // prefill the first 5 tokens with the batch forward, then decode the rest one at a time
    const cache = createCache(model);
    forward(
      model,
      backend,
      { tokens: Int32Array.from(tokens.slice(0, 5)), segments: [{ start: 0, length: 5 }] },
      {
        onKeyValue: (layer, keys, values) => {
          cache.keys[layer]!.set(keys);
          cache.values[layer]!.set(values);
        },
      },
    );
    cache.length = 5;
    let maxDifference = 0;
    for (let t = 5; t < tokens.length; t++) {
      const step = decodeStep(model, backend, [tokens[t]!], [cache]);
      for (let j = 0; j < config.vocab_size; j++)
        maxDifference = Math.max(maxDifference, Math.abs(step[j]! - full[t * config.vocab_size + j]!));
    }
    expect(cache.length).toBe(tokens.length);
    expect(maxDifference).toBeLessThan(1e-4);
  });
});

describe('NanoEngine.score', () => {
  const engine = new NanoEngine(spreadModel(3));
  const score = (inputs: ScoreRequestInput[]) =>
    engine.score(inputs.map((input) => ScoreRequestSchema.parse(input)));

  it('returns logprobs, ranks, greedy flags and full distributions that agree with each other', async () => {
    const [result, empty] = await score([
      { id: 's', context: 'Question: 2+2=', continuation: ' 4, done', fullDistribution: true },
      { id: 'e', context: '', continuation: 'hi' },
    ]);
    expect(result!.tokenIds).toEqual(encodeText(' 4, done'));
    expect(result!.tokens.join('')).toBe(' 4, done');
    result!.tokenIds.forEach((id, t) => {
      const distribution = result!.distributions![t]!;
      const total = distribution.reduce((sum, logprob) => sum + Math.exp(logprob), 0);
      expect(Math.abs(total - 1)).toBeLessThan(1e-6);
      expect(distribution[id]).toBe(result!.logprobs[t]);
      const rank = 1 + distribution.filter((logprob) => logprob > distribution[id]!).length;
      expect(result!.ranks[t]).toBe(rank);
      expect(result!.isGreedy[t]).toBe(rank === 1);
    });
    expect(empty!.logprobs).toHaveLength(2);
    expect(empty!.distributions).toBeUndefined();
  });

  it('scores a request the same alone and packed with others', async () => {
    const request = { id: 'x', context: 'abc', continuation: 'defg' };
    const [alone] = await score([request]);
    const packed = await score([{ id: 'y', context: 'zz', continuation: 'top' }, request]);
    expect(packed[1]!.logprobs).toEqual(alone!.logprobs);
  });
});

describe('NanoEngine.hidden', () => {
  const engine = new NanoEngine(spreadModel(4));
  const hidden = (input: HiddenRequestInput) => engine.hidden(HiddenRequestSchema.parse(input));
  const texts = ['short', 'a somewhat longer text'];

  it('returns embedding + every block, pooled per text, independent of the batch for mean pooling', async () => {
    const both = await hidden({ id: 'h', texts, pooling: 'mean' });
    expect(both.layers).toHaveLength(config.num_hidden_layers + 1);
    expect(both.tokenCounts).toEqual([5, 22]);
    const alone = await hidden({ id: 'h1', texts: [texts[1]!], pooling: 'mean' });
    for (let l = 0; l < both.layers.length; l++) {
      const row = both.layers[l]!.subarray(config.hidden_size, 2 * config.hidden_size);
      for (let j = 0; j < config.hidden_size; j++)
        expect(Math.abs(row[j]! - alone.layers[l]![j]!)).toBeLessThan(1e-6);
    }
    // layer 0 is the mean of the token embeddings
    const ids = encodeText('short');
    for (let j = 0; j < config.hidden_size; j++) {
      const mean =
        ids.reduce((sum, id) => sum + engine.model.embed[id * config.hidden_size + j]!, 0) / ids.length;
      expect(Math.abs(both.layers[0]![j]! - mean)).toBeLessThan(1e-6);
    }
  });

  it('mean-with-padding averages over the left padding; last takes the final token', async () => {
    const mean = await hidden({ id: 'm', texts, pooling: 'mean' });
    const padded = await hidden({ id: 'p', texts, pooling: 'mean-with-padding', batchSize: 2 });
    const separately = await hidden({ id: 'q', texts, pooling: 'mean-with-padding', batchSize: 1 });
    const last = config.num_hidden_layers;
    // the longest text has no padding: both poolings agree on it; the short one differs
    expect(
      Math.abs(padded.layers[last]![config.hidden_size]! - mean.layers[last]![config.hidden_size]!),
    ).toBeLessThan(1e-6);
    expect(Math.abs(padded.layers[last]![0]! - mean.layers[last]![0]!)).toBeGreaterThan(1e-4);
    expect(Math.abs(separately.layers[last]![0]! - mean.layers[last]![0]!)).toBeLessThan(1e-6);
    const lastToken = await hidden({ id: 'l', texts: ['abc'], pooling: 'last' });
    const prefix = await hidden({ id: 'l2', texts: ['abc'], pooling: 'mean' });
    expect(lastToken.layers[0]![0]).toBeCloseTo(
      engine.model.embed['c'.charCodeAt(0) * config.hidden_size]!,
      6,
    );
    expect(prefix.layers[0]![0]).not.toBe(lastToken.layers[0]![0]);
  });
});
