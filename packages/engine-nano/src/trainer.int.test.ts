import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyLossSchema } from '@xfer/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createNanoModel } from './model.js';
import { encodeText, endOfTextId } from './tokenizer.js';
import { NanoTrainer } from './trainer.js';

const config = {
  vocab_size: 264,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 8,
  max_position_embeddings: 32,
};
const loss = PolicyLossSchema.parse({});
const batch = [{ promptTokenIds: [endOfTextId], completionTokenIds: encodeText('resume me') }];
let directory = '';
afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('NanoTrainer checkpoints', () => {
  it('resumes bit-identically from a checkpoint saved with the optimizer state', async () => {
    directory = await mkdtemp(join(tmpdir(), 'nano-trainer-'));
    const step = async (trainer: NanoTrainer) => {
      await trainer.forwardBackward(batch, loss);
      return trainer.optimizerStep({ learningRate: 1e-2, gradClip: 1 });
    };
    const original = new NanoTrainer(createNanoModel(config, 1), { optimizer: { weightDecay: 0.05 } });
    await step(original);
    await step(original);
    await original.save(directory, { optimizer: true });
    expect((await readdir(directory)).sort()).toContain('optimizer.safetensors');
    await step(original);
    const resumed = new NanoTrainer(createNanoModel(config, 99));
    await resumed.load(directory, { optimizer: true });
    expect(resumed.stepsTaken).toBe(2);
    const result = await step(resumed);
    expect(result.step).toBe(3);
    for (const [name, data] of original.model.tensors) {
      expect(Buffer.from(resumed.model.tensors.get(name)!.buffer).equals(Buffer.from(data.buffer))).toBe(
        true,
      );
    }
    // loading without the optimizer state restarts the moments: the third step differs
    const fresh = new NanoTrainer(createNanoModel(config, 99), { optimizer: { weightDecay: 0.05 } });
    await fresh.load(directory);
    await step(fresh);
    expect(Buffer.from(fresh.model.embed.buffer).equals(Buffer.from(original.model.embed.buffer))).toBe(
      false,
    );
  });
});
