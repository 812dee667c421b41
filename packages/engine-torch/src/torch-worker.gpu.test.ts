/**
 * GPU checks of the worker's fast paths (`pnpm test:gpu`, never in the default run): the CUDA-graph decode
 * gives the same greedy tokens as eager decoding, CUDA scores match the CPU within bf16/TF32 noise, and a
 * bf16-autocast training step runs and lowers the loss.
 */
import { type GenerateRequest, generateAll } from '@xfer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNanoCheckpoint } from '../test/fixtures.js';
import { createTorchEngine, createTorchTrainer } from './torch-engine.js';

const python = process.env.XFER_PYTHON ?? 'python3';
let checkpoint: Awaited<ReturnType<typeof writeNanoCheckpoint>>;
beforeAll(async () => {
  checkpoint = await writeNanoCheckpoint(5);
});
afterAll(async () => {
  await checkpoint.cleanup();
});

const greedy = (id: string, prompt: string): GenerateRequest => ({
  id,
  prompt,
  sampling: { temperature: 0, topP: 1, topK: -1, maxTokens: 48, stop: [], seed: 0, logprobs: true },
});

describe('torch worker on CUDA', () => {
  it('announces CUDA and decodes identically with and without CUDA graphs', async () => {
    const requests = [
      greedy('a', 'Hello'),
      greedy('b', '<|im_start|>user\nhi<|im_end|>\n'),
      greedy('c', 'x'),
    ];
    const graphs = await createTorchEngine({
      python,
      model: { kind: 'nano', path: checkpoint.directory },
      device: 'cuda',
      workerOptions: { cudaGraphs: true },
    });
    const eager = await createTorchEngine({
      python,
      model: { kind: 'nano', path: checkpoint.directory },
      device: 'cuda',
      workerOptions: { cudaGraphs: false },
    });
    const cpu = await createTorchEngine({
      python,
      model: { kind: 'nano', path: checkpoint.directory },
      device: 'cpu',
    });
    try {
      expect(graphs.worker.ready.capabilities).toEqual(expect.arrayContaining(['cuda', 'cuda-graphs']));
      const [withGraphs, withoutGraphs, onCpu] = [
        await generateAll(graphs, requests),
        await generateAll(eager, requests),
        await generateAll(cpu, requests),
      ];
      expect(withGraphs.map((r) => r.tokenIds)).toEqual(withoutGraphs.map((r) => r.tokenIds));
      expect(withGraphs.map((r) => r.tokenIds)).toEqual(onCpu.map((r) => r.tokenIds));
      const score = {
        id: 's',
        context: 'The quick brown fox',
        continuation: ' jumps',
        fullDistribution: false,
      };
      const [gpuScore, cpuScore] = [(await graphs.score([score]))[0]!, (await cpu.score([score]))[0]!];
      for (const [i, value] of gpuScore.logprobs.entries()) {
        expect(Math.abs(value - cpuScore.logprobs[i]!)).toBeLessThan(2e-3);
      }
    } finally {
      await Promise.all([graphs.close(), eager.close(), cpu.close()]);
    }
  });

  it('trains with bf16 autocast, gradient checkpointing and packing', async () => {
    const trainer = await createTorchTrainer({
      python,
      model: { kind: 'nano', path: checkpoint.directory },
      device: 'cuda',
      dtype: 'bfloat16',
      workerOptions: { gradientCheckpointing: true, packing: true },
    });
    try {
      const tokens = await trainer.tokenize(['<|endoftext|>the answer is 7<|im_end|>']);
      const sequence = { promptTokenIds: tokens[0]!.slice(0, 1), completionTokenIds: tokens[0]!.slice(1) };
      const loss = { clip: null, klBeta: 0, aggregation: 'token-mean' as const };
      const first = await trainer.forwardBackward([sequence, sequence], loss);
      await trainer.optimizerStep({ learningRate: 1e-2, gradClip: 1 });
      for (let i = 0; i < 5; i++) {
        await trainer.forwardBackward([sequence, sequence], loss);
        await trainer.optimizerStep({ learningRate: 1e-2, gradClip: 1 });
      }
      const last = await trainer.forwardBackward([sequence, sequence], loss);
      expect(last.loss).toBeLessThan(first.loss);
    } finally {
      await trainer.close();
    }
  });
});
