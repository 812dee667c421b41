/** Runs a tiny GRPO training in a child process so a test can SIGKILL it mid-run. argv: outputDir seed steps */
import { resolveTrainingConfig, runTraining } from '../src/index.js';
import { tinyTrainer, toyTask } from './toy-task.js';

const [outputDir, seed, steps] = process.argv.slice(2);
const config = resolveTrainingConfig({
  recipe: 'onpolicy-rl',
  preset: 'tiny',
  seed: Number(seed),
  overrides: { steps: Number(steps), checkpointEvery: 1 },
});
await runTraining({ config, trainer: tinyTrainer(), task: toyTask(), outputDir: outputDir!, resume: true });
