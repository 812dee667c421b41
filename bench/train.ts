/**
 * One GRPO step at nano scale (32 prompts × 8 rollouts × 64 new tokens) through the real driver on
 * engine-nano, with the time split into rollout, reward, logprobs, train step and driver. The driver's share
 * of the step is printed last: `driver_share=<fraction>` (target ≤ 0.05).
 *
 * Run: pnpm bench:train
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNanoModel, defaultNanoConfig, loadNanoCheckpoint, NanoTrainer } from '@xfer/engine-nano';
import { rendererFor } from '@xfer/eval';
import { mathTrainTask, nanoMathTrainBenchmarks } from '@xfer/pipeline';
import { resolveTrainingConfig, runTraining } from '@xfer/train';

const shipped = fileURLToPath(new URL('../models/nano-base', import.meta.url));
const model = existsSync(join(shipped, 'config.json'))
  ? await loadNanoCheckpoint(shipped)
  : createNanoModel(defaultNanoConfig, 0);
const trainer = new NanoTrainer(model, { optimizer: { weightDecay: 0.1 } });
const task = mathTrainTask(nanoMathTrainBenchmarks(64, 0), await rendererFor(trainer.policy));
const config = resolveTrainingConfig({
  recipe: 'rl',
  preset: 'nano',
  overrides: {
    steps: 1,
    batchSize: 32,
    samplesPerPrompt: 8,
    miniBatchSize: 32,
    microBatchSize: 64,
    rollout: { temperature: 1, maxTokens: 64 },
    checkpointEvery: 1000,
  },
  levers: { dynamicSampling: { enabled: false, maxBatches: 1 } },
});
const outputDir = await mkdtemp(join(tmpdir(), 'xfer-bench-train-'));
const figures: Record<string, number> = {};
try {
  await runTraining({
    config,
    trainer,
    task,
    outputDir,
    recorder: {
      metrics: (points) => {
        for (const point of points) figures[point.name] = point.value;
      },
      checkpoint: () => {},
    },
  });
} finally {
  await rm(outputDir, { recursive: true, force: true });
}
const step = figures['time/step']!;
const share = (name: string) => (figures[`time/${name}`]! / step).toFixed(3);
process.stdout.write(
  `model=${existsSync(join(shipped, 'config.json')) ? 'nano-base' : 'random default nano'} prompts=32 rollouts=8 max_new_tokens=64\n`,
);
process.stdout.write(
  `step_s=${step.toFixed(2)} rollout_s=${figures['time/rollout']!.toFixed(2)} reward_s=${figures['time/reward']!.toFixed(3)} logprobs_s=${figures['time/logprobs']!.toFixed(2)} train_s=${figures['time/train']!.toFixed(2)} driver_s=${figures['time/driver']!.toFixed(3)}\n`,
);
process.stdout.write(
  `shares rollout=${share('rollout')} reward=${share('reward')} logprobs=${share('logprobs')} train=${share('train')}\n`,
);
process.stdout.write(`driver_share=${(figures['time/driver']! / step).toFixed(4)}\n`);
