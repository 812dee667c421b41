import { createNanoModel, NanoTrainer } from '@xfer/engine-nano';
import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../../test/toy-task.js';
import { resolvePretrainPreset } from './presets.js';
import { pretrain } from './pretrain.js';

const documents = Array.from({ length: 8 }, (_, index) => ({
  prompt: `<|im_start|>user\nCompute ${index}+${index + 3}.<|im_end|>\n<|im_start|>assistant\n`,
  completion: `${index}+${index + 3}=${2 * index + 3}.<|im_end|>`,
}));

async function run(overrides: Parameters<typeof resolvePretrainPreset>[1]) {
  const trainer = new NanoTrainer(createNanoModel(tinyConfig, 4), { optimizer: { weightDecay: 0 } });
  const preset = resolvePretrainPreset('tiny', { steps: 2, batchSize: 4, microBatchSize: 4, ...overrides });
  const losses: number[] = [];
  await pretrain({ trainer, documents, preset, seed: 1, onStep: (step) => losses.push(step.loss) });
  const weights = [...trainer.model.tensors.values()].flatMap((tensor) => [...tensor.slice(0, 16)]);
  await trainer.close();
  return { losses, weights };
}

describe('pretrain', () => {
  it('trains prompt tokens at promptLossWeight and completion tokens at 1', async () => {
    const completionsOnly = await run({ promptLossWeight: 0 });
    const withPrompts = await run({ promptLossWeight: 0.5 });
    expect(withPrompts.losses[0]).not.toBeCloseTo(completionsOnly.losses[0]!, 3);
    expect(withPrompts.weights).not.toEqual(completionsOnly.weights);
  });

  it('accumulates micro-batches into the batch mean, prompt weights included', async () => {
    const whole = await run({ promptLossWeight: 0.5, microBatchSize: 4 });
    const halves = await run({ promptLossWeight: 0.5, microBatchSize: 2 });
    for (const [index, loss] of whole.losses.entries()) expect(halves.losses[index]).toBeCloseTo(loss, 4);
    for (const [index, value] of whole.weights.entries()) expect(halves.weights[index]).toBeCloseTo(value, 4);
  });
});
