import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tinyTrainer, toyTask } from '../../test/toy-task.js';
import { resolveTrainingConfig } from '../recipes/recipes.js';
import { latestCheckpoint } from './checkpoints.js';
import { runTraining } from './driver.js';

const directories: string[] = [];
async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'xfer-train-'));
  directories.push(directory);
  return directory;
}
afterAll(async () => {
  await Promise.all(directories.map((d) => rm(d, { recursive: true, force: true })));
});

async function weightsHash(directory: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(join(directory, 'model.safetensors')))
    .digest('hex');
}

const task = toyTask();
const sftData = task.items.map((item) => ({
  itemId: item.id,
  prompt: task.renderPrompt(item, { enableThinking: false }),
  completion: `\\boxed{${item.target}}`,
}));

describe('the unified loss', () => {
  it('with q = teacher, w = 1, β = 0 is token cross-entropy: same value and the same gradient as PPO at ratio 1', async () => {
    const trainer = tinyTrainer(3);
    const [prompt, completion] = await trainer.tokenize([
      '<|im_start|>user\n1+2=<|im_end|>\n<|im_start|>assistant\n',
      '\\boxed{3}<|im_end|>',
    ]);
    const sequence = { promptTokenIds: prompt!, completionTokenIds: completion! };
    const [logprobs] = await trainer.logprobs([sequence], 'policy');
    const crossEntropy = -logprobs!.reduce((s, v) => s + v, 0) / logprobs!.length;
    const plain = await trainer.forwardBackward([sequence], {
      clip: null,
      klBeta: 0,
      aggregation: 'token-mean',
    });
    expect(plain.loss).toBeCloseTo(crossEntropy, 5);
    await trainer.optimizerStep({ learningRate: 1e-2 });

    // PPO with old = current logprobs (ratio 1) and advantage 1 has the gradient of log π, i.e. of −CE.
    const other = tinyTrainer(3);
    const clipped = await other.forwardBackward(
      [{ ...sequence, weights: new Array(completion!.length).fill(1), oldLogprobs: logprobs! }],
      { clip: { low: 0.2, high: 0.28 }, klBeta: 0, aggregation: 'token-mean' },
    );
    expect(clipped.clipFraction).toBe(0);
    await other.optimizerStep({ learningRate: 1e-2 });
    const [after] = await trainer.logprobs([sequence], 'policy');
    const [afterOther] = await other.logprobs([sequence], 'policy');
    for (let i = 0; i < after!.length; i++) expect(afterOther![i]).toBeCloseTo(after![i]!, 4);
  });
});

describe('runTraining', () => {
  it('SFT lowers the loss on its data and records metrics and checkpoints', async () => {
    const outputDir = await tempDir();
    const config = resolveTrainingConfig({
      recipe: 'sft-no-think',
      preset: 'tiny',
      overrides: { epochs: 6, learningRate: 1e-2 },
    });
    const metrics: { name: string; step: number; value: number }[] = [];
    const checkpoints: number[] = [];
    const summary = await runTraining({
      config,
      trainer: tinyTrainer(),
      task,
      sftData,
      outputDir,
      recorder: {
        metrics: (points) => void metrics.push(...points),
        checkpoint: (info) => void checkpoints.push(info.step),
      },
    });
    expect(summary.steps).toBe(18); // ceil(6 epochs × 12 examples / batch 4)
    const losses = metrics.filter((m) => m.name === 'loss').map((m) => m.value);
    expect(losses.length).toBe(18);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(checkpoints).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(summary.finalSha256).toBe(await weightsHash(summary.finalModel));
  });

  it('GRPO runs rollouts, rewards from the scorer, and resumes to identical weights', async () => {
    const config = resolveTrainingConfig({
      recipe: 'onpolicy-rl',
      preset: 'tiny',
      seed: 5,
      overrides: { steps: 4 },
    });
    const full = await tempDir();
    const uninterrupted = await runTraining({ config, trainer: tinyTrainer(), task, outputDir: full });

    // Stop after step 2 (a checkpoint), then resume with a fresh trainer from the same base.
    const partial = await tempDir();
    const controller = new AbortController();
    await expect(
      runTraining({
        config,
        trainer: tinyTrainer(),
        task,
        outputDir: partial,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.step === 3) controller.abort();
        },
      }),
    ).rejects.toThrowError(/cancelled at step 3/);
    expect((await latestCheckpoint(partial))?.step).toBe(2);
    const resumed = await runTraining({
      config,
      trainer: tinyTrainer(),
      task,
      outputDir: partial,
      resume: true,
    });
    expect(resumed.resumedFrom).toBe(2);
    expect(resumed.finalSha256).toBe(uninterrupted.finalSha256);
  });

  it('refuses to resume a run written with another config', async () => {
    const outputDir = await tempDir();
    const config = resolveTrainingConfig({ recipe: 'sft-think', preset: 'tiny' });
    await runTraining({ config, trainer: tinyTrainer(), task, sftData, outputDir });
    const changed = resolveTrainingConfig({
      recipe: 'sft-think',
      preset: 'tiny',
      overrides: { learningRate: 0.5 },
    });
    await expect(
      runTraining({ config: changed, trainer: tinyTrainer(), task, sftData, outputDir, resume: true }),
    ).rejects.toThrowError(/different training config/);
  });
});

describe('a run killed with SIGKILL', () => {
  it('resumes from its last checkpoint and ends with the weights of an uninterrupted run', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { existsSync } = await import('node:fs');
    const steps = 8;
    const config = resolveTrainingConfig({
      recipe: 'onpolicy-rl',
      preset: 'tiny',
      seed: 9,
      overrides: { steps, checkpointEvery: 1 },
    });
    const reference = await runTraining({ config, trainer: tinyTrainer(), task, outputDir: await tempDir() });

    const outputDir = await tempDir();
    const script = fileURLToPath(new URL('../../test/train-child.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@xfer/source', script, outputDir, '9', String(steps)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const marker = join(outputDir, 'checkpoints', 'step-000003', 'driver-state.json');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(marker) && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(marker), stderr).toBe(true);
    child.kill('SIGKILL');
    await exited;
    const latest = await latestCheckpoint(outputDir);
    expect(latest!.step).toBeGreaterThanOrEqual(3);
    expect(latest!.step).toBeLessThan(steps);

    const resumed = await runTraining({ config, trainer: tinyTrainer(), task, outputDir, resume: true });
    expect(resumed.resumedFrom).toBe(latest!.step);
    expect(resumed.finalSha256).toBe(reference.finalSha256);
  });
});

describe('divergence', () => {
  it('stops with a TrainingDivergedError naming the step and keeps the last good checkpoint', async () => {
    const { TrainingDivergedError } = await import('@xfer/core');
    const outputDir = await tempDir();
    const config = resolveTrainingConfig({
      recipe: 'sft-no-think',
      preset: 'tiny',
      overrides: {
        epochs: 20,
        learningRate: 1e9,
        gradClip: null,
        schedule: { kind: 'constant' },
        checkpointEvery: 1,
      },
    });
    const error = await runTraining({ config, trainer: tinyTrainer(), task, sftData, outputDir }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(TrainingDivergedError.isInstance(error), String(error)).toBe(true);
    const step = (error as InstanceType<typeof TrainingDivergedError>).step;
    const latest = await latestCheckpoint(outputDir);
    // Every committed checkpoint predates the divergence and holds finite weights that load again.
    if (latest) {
      expect(latest.step).toBeLessThanOrEqual(step);
      const trainer = tinyTrainer();
      await trainer.load(latest.path, { optimizer: true });
    }
  });
});

describe('gradient accumulation', () => {
  it('gives the weights of one big batch, whatever the micro-batch size (token-mean scales)', async () => {
    const hashes: string[] = [];
    for (const microBatchSize of [4, 1, 3]) {
      const config = resolveTrainingConfig({
        recipe: 'sft-no-think',
        preset: 'tiny',
        overrides: { steps: 2, microBatchSize, batchSize: 4 },
      });
      const summary = await runTraining({
        config,
        trainer: tinyTrainer(),
        task,
        sftData,
        outputDir: await tempDir(),
      });
      const trainer = tinyTrainer();
      await trainer.load(summary.finalModel);
      const [logprobs] = await trainer.logprobs(
        [{ promptTokenIds: [1, 2, 3], completionTokenIds: [4, 5, 6] }],
        'policy',
      );
      hashes.push(logprobs!.map((v) => v.toFixed(5)).join(','));
    }
    expect(hashes[1]).toBe(hashes[0]);
    expect(hashes[2]).toBe(hashes[0]);
  });
});

describe('sequence length', () => {
  it('truncates completions to the model context even when the config allows more', async () => {
    const long = sftData.map((example) => ({ ...example, completion: `${'x'.repeat(200)}\\boxed{1}` }));
    const config = resolveTrainingConfig({
      recipe: 'sft-no-think',
      preset: 'tiny',
      overrides: { steps: 1, maxSequenceLength: 4096 },
    });
    // The tiny model has 128 positions: without truncation engine-nano rejects the batch.
    const summary = await runTraining({
      config,
      trainer: tinyTrainer(),
      task,
      sftData: long,
      outputDir: await tempDir(),
    });
    expect(summary.steps).toBe(1);
  });
});

describe('what SFT teaches is what the policy generates', () => {
  it('after overfitting four examples, greedy decoding reproduces their completions', async () => {
    const { generateAll } = await import('@xfer/core');
    const few = sftData.slice(0, 4);
    const trainer = tinyTrainer(11);
    const config = resolveTrainingConfig({
      recipe: 'sft-no-think',
      preset: 'tiny',
      overrides: {
        steps: 150,
        batchSize: 4,
        microBatchSize: 4,
        learningRate: 1e-2,
        schedule: { kind: 'constant' },
        checkpointEvery: 1000,
      },
    });
    await runTraining({ config, trainer, task, sftData: few, outputDir: await tempDir() });
    const results = await generateAll(
      trainer.policy,
      few.map((example, index) => ({
        id: String(index),
        prompt: example.prompt,
        sampling: {
          temperature: 0,
          topP: 1,
          topK: -1,
          maxTokens: 24,
          stop: ['<|im_end|>'],
          seed: 0,
          logprobs: false,
        },
      })),
    );
    expect(results.map((result) => result.text)).toEqual(few.map((example) => example.completion));
  });
});
