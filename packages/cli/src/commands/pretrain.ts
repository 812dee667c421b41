import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelRef } from '@xfer/core';
import { defineCommand } from 'citty';
import { integerOption } from '../options.js';
import { reportError } from '../report-error.js';

const percent = (value: number) => (value * 100).toFixed(1);

/** Evaluate a nano checkpoint on the nano-suite in-process and print the table by group; returns the group means. */
async function evaluateAndPrint(
  model: string,
  limit: number | undefined,
): Promise<Record<'math' | 'other' | 'non', number>> {
  const { createNanoEngine } = await import('@xfer/engine-nano');
  const { evaluateNanoSuite, formatNanoSuiteTable } = await import('@xfer/eval');
  const reference = existsSync(join(model, 'config.json')) ? model : parseModelRef(model);
  const { nanoSearchPaths } = await import('../nano-engines.js');
  const engine = await createNanoEngine(reference, { searchPaths: nanoSearchPaths() });
  try {
    const result = await evaluateNanoSuite(engine, {
      ...(limit === undefined ? {} : { limit }),
      onProgress: ({ task, done, total }) => {
        if (done === total) process.stderr.write(`evaluated ${task} (${total} items)\n`);
      },
    });
    process.stdout.write(`${formatNanoSuiteTable(result)}\n`);
    return result.groups;
  } finally {
    await engine.close();
  }
}

export default defineCommand({
  meta: {
    name: 'pretrain',
    description:
      'Pretrain a nano base model on the nano-suite corpus with engine-nano and write a Hugging Face checkpoint (bit-for-bit reproducible from the seed); then evaluate it on the nano-suite.',
  },
  args: {
    preset: {
      type: 'string',
      default: 'nano',
      description: 'pretraining preset: nano (the shipped nano-base) or tiny (smoke test)',
    },
    seed: {
      type: 'string',
      default: '0',
      description: 'seed of the initialisation, the corpus draw and the batch order',
    },
    out: { type: 'string', description: 'checkpoint directory (default .xfer/pretrain/<preset>-seed<seed>)' },
    steps: { type: 'string', description: 'override the preset’s optimizer steps' },
    eval: {
      type: 'boolean',
      default: true,
      description: 'evaluate the checkpoint on the nano-suite afterwards (--no-eval to skip)',
    },
    'eval-limit': { type: 'string', description: 'items per nano task when evaluating (default 200)' },
    evaluate: {
      type: 'string',
      description:
        'only evaluate this nano model (nano-base, nano:<dir>, ./dir) and print the table by group',
    },
  },
  async run({ args }) {
    try {
      const evalLimit = integerOption('eval-limit', args['eval-limit'], 1);
      if (args.evaluate !== undefined) {
        const groups = await evaluateAndPrint(args.evaluate, evalLimit);
        process.stdout.write(
          `model=${args.evaluate} math=${percent(groups.math)} other=${percent(groups.other)} non=${percent(groups.non)}\n`,
        );
        return;
      }
      const seed = integerOption('seed', args.seed, 0) ?? 0;
      const steps = integerOption('steps', args.steps, 1);
      const { resolvePretrainPreset, runNanoPretraining } = await import('@xfer/train');
      const { createNanoModel, NanoTrainer, nanoChatTemplate, nanoComputeInfo, parseNanoConfig } =
        await import('@xfer/engine-nano');
      const { createChatTemplate } = await import('@xfer/eval');
      const preset = resolvePretrainPreset(args.preset, steps === undefined ? {} : { steps });
      const outputDir = args.out ?? `.xfer/pretrain/${preset.name}-seed${seed}`;
      const template = createChatTemplate(nanoChatTemplate);
      const everySteps = Math.max(1, Math.floor(preset.steps / 100));
      const record = await runNanoPretraining({
        preset,
        seed,
        outputDir,
        render: (messages, options) => template.render(messages, options),
        compute: nanoComputeInfo(),
        createTrainer: (architecture, options) =>
          new NanoTrainer(createNanoModel(parseNanoConfig(architecture), options.seed), {
            optimizer: options.optimizer,
            name: outputDir,
          }),
        onStep: (step) => {
          if (step.step % everySteps !== 0 && step.step !== step.steps) return;
          const rate = step.tokens / Math.max(step.seconds, 1e-9);
          const eta = ((step.steps - step.step) * step.seconds) / step.step;
          process.stderr.write(
            `step ${step.step}/${step.steps} loss ${step.loss.toFixed(4)} grad ${step.gradNorm.toFixed(3)} lr ${step.learningRate.toExponential(2)} ${rate.toFixed(0)} tok/s eta ${eta.toFixed(0)}s\n`,
          );
        },
      });
      process.stderr.write(`wrote ${record.checkpoint.path} (${record.checkpoint.bytes} bytes)\n`);
      let figures = '';
      if (args.eval) {
        const groups = await evaluateAndPrint(outputDir, evalLimit);
        figures = ` math=${percent(groups.math)} other=${percent(groups.other)} non=${percent(groups.non)}`;
      }
      process.stdout.write(
        `preset=${preset.name} seed=${seed} steps=${record.steps} tokens=${record.tokens} loss=${record.finalLoss.toFixed(4)} seconds=${record.seconds.toFixed(1)} sha256=${record.checkpoint.sha256} out=${outputDir}${figures}\n`,
      );
    } catch (error) {
      reportError(error);
    }
  },
});
