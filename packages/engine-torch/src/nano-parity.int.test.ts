/**
 * The same nano checkpoint in engine-nano (TypeScript) and the torch worker (PyTorch) must agree: score
 * logprobs within 1e-4, identical greedy text, the same training loss, and the same weights after one
 * AdamW step.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type GenerateRequest, generateAll, type PolicyLoss, type TrainSequence } from '@xfer/core';
import { cloneModel, encodeText, loadNanoCheckpoint, NanoEngine, NanoTrainer } from '@xfer/engine-nano';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEnv, writeNanoCheckpoint } from '../test/fixtures.js';
import { createTorchEngine, createTorchTrainer } from './torch-engine.js';

let checkpoint: Awaited<ReturnType<typeof writeNanoCheckpoint>>;
let scratch: string;
beforeAll(async () => {
  checkpoint = await writeNanoCheckpoint(11);
  scratch = await mkdtemp(path.join(tmpdir(), 'xfer-parity-'));
});
afterAll(async () => {
  await checkpoint.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

const maxAbsDifference = (a: readonly number[], b: readonly number[]) => {
  expect(a.length).toBe(b.length);
  return Math.max(0, ...a.map((value, i) => Math.abs(value - b[i]!)));
};

describe('engine-torch agrees with engine-nano on the same checkpoint', () => {
  it('scores: logprobs within 1e-4, identical ranks, greedy flags and token strings', async () => {
    const nano = new NanoEngine(cloneModel(checkpoint.model));
    const torch = await createTorchEngine({
      model: { kind: 'nano', path: checkpoint.directory },
      env: workerEnv,
    });
    try {
      const requests = [
        {
          id: 'a',
          context: 'The quick brown fox',
          continuation: ' jumps over the lazy dog.',
          fullDistribution: false,
        },
        {
          id: 'b',
          context: '<|im_start|>user\nWhat is 2+2?<|im_end|>\n',
          continuation: '<think>\n\n</think>\n\n4<|im_end|>',
          fullDistribution: true,
        },
        { id: 'c', context: '', continuation: 'héllo wörld', fullDistribution: false },
      ];
      const [expected, actual] = [await nano.score(requests), await torch.score(requests)];
      for (const [i, result] of actual.entries()) {
        const reference = expected[i]!;
        expect(result.tokenIds).toEqual(reference.tokenIds);
        expect(result.tokens).toEqual(reference.tokens);
        expect(maxAbsDifference(result.logprobs, reference.logprobs)).toBeLessThanOrEqual(1e-4);
        expect(result.ranks).toEqual(reference.ranks);
        expect(result.isGreedy).toEqual(reference.isGreedy);
      }
      expect(
        maxAbsDifference(actual[1]!.distributions!.flat(), expected[1]!.distributions!.flat()),
      ).toBeLessThanOrEqual(1e-4);
      const [info, nanoInfo] = [await torch.info(), await nano.info()];
      expect(info.vocabSize).toBe(nanoInfo.vocabSize);
      // the same weights and tokenizer are recognised as such across engines (cache keys agree)
      expect(info.modelHash).toBe(nanoInfo.modelHash);
      expect(info.tokenizerHash).toBe(nanoInfo.tokenizerHash);
      expect(info.chatTemplateHash).toBe(nanoInfo.chatTemplateHash);
    } finally {
      await torch.close();
    }
  });

  it('greedy generation gives the same tokens, text and finish reasons', async () => {
    const nano = new NanoEngine(cloneModel(checkpoint.model));
    const torch = await createTorchEngine({
      model: { kind: 'nano', path: checkpoint.directory },
      env: workerEnv,
    });
    const greedy = { temperature: 0, topP: 1, topK: -1, seed: 0, logprobs: true };
    const requests: GenerateRequest[] = [
      { id: 'short', prompt: 'Hello', sampling: { ...greedy, maxTokens: 24, stop: [] } },
      {
        id: 'chat',
        prompt: '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
        sampling: { ...greedy, maxTokens: 40, stop: [] },
      },
      { id: 'empty', prompt: '', sampling: { ...greedy, maxTokens: 16, stop: [] } },
    ];
    try {
      const expected = await generateAll(nano, requests);
      const actual = await generateAll(torch, requests);
      for (const [i, result] of actual.entries()) {
        const reference = expected[i]!;
        expect(result.tokenIds).toEqual(reference.tokenIds);
        expect(result.text).toEqual(reference.text);
        expect(result.finishReason).toBe(reference.finishReason);
        expect(result.promptTokens).toBe(reference.promptTokens);
        expect(maxAbsDifference(result.logprobs!, reference.logprobs!)).toBeLessThanOrEqual(1e-4);
      }
      // stop strings cut at the same place: stop on a piece of the text nano produced
      const text = expected[0]!.text;
      const stop = text.slice(5, 7);
      const withStop = { ...requests[0]!, sampling: { ...requests[0]!.sampling, stop: [stop] } };
      const [nanoStop] = await generateAll(nano, [withStop]);
      const [torchStop] = await generateAll(torch, [withStop]);
      expect(torchStop!.text).toBe(nanoStop!.text);
      expect(torchStop!.finishReason).toBe(nanoStop!.finishReason);
    } finally {
      await torch.close();
    }
  });

  it('hidden states agree for mean, last and mean-with-padding pooling', async () => {
    const nano = new NanoEngine(cloneModel(checkpoint.model));
    const torch = await createTorchEngine({
      model: { kind: 'nano', path: checkpoint.directory },
      env: workerEnv,
    });
    try {
      for (const pooling of ['mean', 'last', 'mean-with-padding'] as const) {
        const request = {
          id: 'h',
          texts: ['short', 'a much longer text here', 'mid text'],
          maxLength: 12,
          pooling,
          batchSize: 3,
        };
        const [expected, actual] = [await nano.hidden(request), await torch.hidden(request)];
        expect(actual.tokenCounts).toEqual(expected.tokenCounts);
        expect(actual.layers).toHaveLength(expected.layers.length);
        for (const [layer, values] of actual.layers.entries()) {
          expect(
            maxAbsDifference(Array.from(values), Array.from(expected.layers[layer]!)),
          ).toBeLessThanOrEqual(1e-3);
        }
      }
    } finally {
      await torch.close();
    }
  });

  it('one training step: same loss, logprobs and gradient norm, and the same weights after AdamW', async () => {
    const optimizer = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    const nano = new NanoTrainer(cloneModel(checkpoint.model), { optimizer });
    const torch = await createTorchTrainer({
      model: { kind: 'nano', path: checkpoint.directory },
      optimizer,
      env: workerEnv,
    });
    try {
      const prompt = encodeText('<|im_start|>user\n3+4?<|im_end|>\n<|im_start|>assistant\n');
      const sequences: TrainSequence[] = [
        { promptTokenIds: prompt, completionTokenIds: encodeText('7<|im_end|>'), weights: [1.5, -0.5] },
        { promptTokenIds: [256], completionTokenIds: encodeText('seven is the answer') },
      ];
      const old = await nano.logprobs(sequences, 'policy');
      expect(
        maxAbsDifference((await torch.logprobs(sequences, 'policy')).flat(), old.flat()),
      ).toBeLessThanOrEqual(1e-4);
      const shifted = sequences.map((sequence, i) => ({
        ...sequence,
        oldLogprobs: old[i]!.map((v, t) => v + (t % 2 === 0 ? 0.4 : -0.4)),
      }));
      const loss: PolicyLoss = { clip: { low: 0.2, high: 0.28 }, klBeta: 0, aggregation: 'sequence-mean' };
      const [a, b] = [await nano.forwardBackward(shifted, loss), await torch.forwardBackward(shifted, loss)];
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-4);
      expect(b.tokens).toBe(a.tokens);
      expect(b.clipFraction).toBeCloseTo(a.clipFraction, 6);
      expect(b.entropy!).toBeCloseTo(a.entropy!, 3);
      const [stepA, stepB] = [
        await nano.optimizerStep({ learningRate: 1e-3, gradClip: 1 }),
        await torch.optimizerStep({ learningRate: 1e-3, gradClip: 1 }),
      ];
      expect(stepB.step).toBe(1);
      expect(Math.abs(stepA.gradNorm - stepB.gradNorm) / stepA.gradNorm).toBeLessThanOrEqual(1e-4);
      const saved = await torch.save(path.join(scratch, 'after-step'), { optimizer: true });
      expect(saved.sha256).toMatch(/^[0-9a-f]{64}$/);
      const reloaded = await loadNanoCheckpoint(saved.path);
      // AdamW's first step is lr·g/(|g|+eps) ≈ lr·sign(g): weights whose gradient is ~0 (float noise in either
      // engine) may move differently, by less than lr. Everything else must agree to 1e-6.
      let total = 0;
      let close = 0;
      let worst = 0;
      for (const [name, values] of nano.model.tensors) {
        const other = reloaded.tensors.get(name)!;
        for (let i = 0; i < values.length; i++) {
          const difference = Math.abs(values[i]! - other[i]!);
          total++;
          if (difference <= 1e-6) close++;
          worst = Math.max(worst, difference);
        }
      }
      expect(close / total).toBeGreaterThanOrEqual(0.999);
      expect(worst).toBeLessThan(1e-3);
      // engine-nano reads the optimizer state the worker wrote and takes the same next step
      const resumed = new NanoTrainer(cloneModel(reloaded), { optimizer });
      await resumed.load(saved.path, { optimizer: true });
      expect(resumed.stepsTaken).toBe(1);
      // and the worker resumes from engine-nano's checkpoint + optimizer state: a second step agrees again
      const nanoSaved = path.join(scratch, 'nano-after-step');
      await nano.save(nanoSaved, { optimizer: true });
      await torch.load(nanoSaved, { optimizer: true });
      const ce: PolicyLoss = { clip: null, klBeta: 0, aggregation: 'token-mean' };
      const [c, d] = [await nano.forwardBackward(sequences, ce), await torch.forwardBackward(sequences, ce)];
      expect(Math.abs(c.loss - d.loss)).toBeLessThanOrEqual(1e-4);
      const [second, secondTorch] = [
        await nano.optimizerStep({ learningRate: 1e-3 }),
        await torch.optimizerStep({ learningRate: 1e-3 }),
      ];
      expect(secondTorch.step).toBe(second.step);
      const final = await loadNanoCheckpoint((await torch.save(path.join(scratch, 'after-two'))).path);
      let agree = 0;
      let count = 0;
      for (const [name, values] of nano.model.tensors) {
        const other = final.tensors.get(name)!;
        for (let i = 0; i < values.length; i++, count++)
          if (Math.abs(values[i]! - other[i]!) <= 1e-6) agree++;
      }
      expect(agree / count).toBeGreaterThanOrEqual(0.999);
    } finally {
      await torch.close();
    }
  });
});
