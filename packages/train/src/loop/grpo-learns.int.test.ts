import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchmarkItem } from '@xfer/core';
import { loadNanoCheckpoint, NanoTrainer, nanoChatTemplate } from '@xfer/engine-nano';
import { createChatTemplate, type GenerativeScorer, getNanoTask, nanoItems } from '@xfer/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTrainingConfig } from '../recipes/recipes.js';
import { runTraining } from './driver.js';
import type { TrainTask } from './types.js';

const nanoBase = fileURLToPath(new URL('../../../../models/nano-base', import.meta.url));
const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/**
 * A reward the shipped base can already earn half the time and that one direction of the policy gradient
 * raises: "the boxed answer is even". If the advantage's sign, the ratio or the aggregation were wrong,
 * GRPO would not move it (or would lower it).
 */
const evenAnswer: GenerativeScorer = {
  kind: 'generative',
  name: 'even-boxed',
  version: '1',
  score: ({ completion }) => {
    const match = /\\boxed\{(-?\d+)\}/.exec(completion);
    const correct = match !== null && Number(match[1]) % 2 === 0;
    return {
      grader: 'even-boxed',
      graderVersion: '1',
      extracted: match?.[1] ?? null,
      correct,
      score: correct ? 1 : 0,
      details: {},
    };
  },
};

describe('GRPO on the shipped nano base', () => {
  it('raises a reward the base earns half the time', async () => {
    const model = await loadNanoCheckpoint(nanoBase);
    const trainer = new NanoTrainer(model, { optimizer: { weightDecay: 0.1 } });
    const template = createChatTemplate(nanoChatTemplate);
    const items: BenchmarkItem[] = ['nano-arithmetic', 'nano-remainder'].flatMap((id) => {
      const task = getNanoTask(id);
      return nanoItems(task, { split: 'train', count: 64, seed: 3 }).map((item) => ({
        ...item,
        input: { ...item.input, user: task.prompt(item) },
      }));
    });
    const task: TrainTask = {
      items,
      scorer: evenAnswer,
      renderPrompt: (item, options) =>
        template.render([{ role: 'user', content: String(item.input.user) }], options),
      endOfTurn: '<|im_end|>',
      stop: ['<|im_end|>'],
    };
    const config = resolveTrainingConfig({
      recipe: 'rl',
      preset: 'nano',
      seed: 0,
      overrides: {
        steps: 14,
        learningRate: 1e-3,
        batchSize: 8,
        miniBatchSize: 8,
        rollout: { temperature: 1, topP: 1, topK: -1, maxTokens: 48 },
        checkpointEvery: 1000,
        evalEvery: 1000,
      },
    });
    const outputDir = await mkdtemp(join(tmpdir(), 'xfer-grpo-'));
    directories.push(outputDir);
    const rewards: number[] = [];
    await runTraining({
      config,
      trainer,
      task,
      outputDir,
      onProgress: (progress) => rewards.push(progress.reward ?? Number.NaN),
    });
    const mean = (values: number[]) => values.reduce((total, value) => total + value, 0) / values.length;
    const first = mean(rewards.slice(0, 3));
    const last = mean(rewards.slice(-3));
    expect(first, `rewards ${rewards.map((reward) => reward.toFixed(2)).join(' ')}`).toBeLessThan(0.75);
    expect(last - first, `rewards ${rewards.map((reward) => reward.toFixed(2)).join(' ')}`).toBeGreaterThan(
      0.15,
    );
  }, 180_000);
});
