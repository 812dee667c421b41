import { ValidationError } from '@xfer/core';
import { defineCommand } from 'citty';
import { integerOption } from '../options.js';
import { formatDuration, ProgressLine } from '../progress.js';
import { reportError } from '../report-error.js';

async function execute(options: {
  recipe?: string;
  base: string;
  preset: string;
  seed?: number;
  out?: string;
  db?: string;
  resume?: string;
  steps?: number;
}) {
  const { defaultStorePath, openStore } = await import('@xfer/store');
  const { trainRecipe } = await import('@xfer/pipeline');
  const { nanoPipelineEngines, resolveNanoModel } = await import('../nano-engines.js');
  const store = openStore(options.db ?? defaultStorePath());
  const bar = new ProgressLine();
  try {
    let recipe = options.recipe;
    let base = options.base;
    if (options.resume) {
      const run = store.training.requireRun(options.resume);
      recipe = run.recipe;
      base = store.models.require(run.baseModelId).name;
    }
    if (!recipe)
      throw new ValidationError({
        field: '--recipe',
        message: 'required (one of the recipes in `xfer train --help`)',
      });
    const result = await trainRecipe({
      store,
      engines: await nanoPipelineEngines(),
      recipe,
      preset: options.preset,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      base: await resolveNanoModel(base),
      ...(options.out ? { outputName: options.out } : {}),
      ...(options.steps === undefined ? {} : { overrides: { steps: options.steps } }),
      ...(options.resume ? { resumeRunId: options.resume } : {}),
      onStage: (stage) => {
        bar.done();
        process.stderr.write(`${stage}…\n`);
      },
      onProgress: (progress) =>
        bar.update(
          progress.step,
          progress.totalSteps,
          `loss ${progress.loss.toFixed(4)}${progress.reward === undefined ? '' : ` reward ${progress.reward.toFixed(3)}`} ${progress.tokensPerSecond.toFixed(0)} tok/s eta ${formatDuration(progress.etaSeconds)}`,
        ),
    });
    bar.done();
    process.stdout.write(`run=${result.runId} model=${result.modelName} checkpoint=${result.directory}\n`);
    process.stdout.write(
      `recipe=${recipe} steps=${result.steps} math_before=${result.mathBefore.toFixed(1)} math_after=${result.mathAfter.toFixed(1)} seconds=${result.seconds.toFixed(0)}\n`,
    );
  } finally {
    bar.done();
    store.close();
  }
}

const resume = defineCommand({
  meta: { name: 'resume', description: 'Continue a stopped training run from its last checkpoint' },
  args: {
    run: { type: 'positional', required: true, description: 'training run id (see `xfer db info`)' },
    db: { type: 'string', description: 'experiment store (default $XFER_DB or ./xfer.db)' },
  },
  async run({ args }) {
    try {
      await execute({ base: '', preset: 'nano', ...(args.db ? { db: args.db } : {}), resume: args.run });
    } catch (error) {
      reportError(error);
    }
  },
});

export default defineCommand({
  meta: {
    name: 'train',
    description:
      'Train a base model on math-only data with a recipe (sft-think, sft-no-think, rl, offpolicy-sft, onpolicy-sft, offpolicy-rl, onpolicy-rl, onpolicy-rl-nokl); prints recipe=… steps=… math_before=… math_after=… seconds=… last',
  },
  args: {
    recipe: { type: 'string', description: 'recipe id' },
    base: { type: 'string', default: 'nano-base', description: 'base model (nano-base, nano:<dir>, ./dir)' },
    preset: { type: 'string', default: 'nano', description: 'nano | paper | paper-released | tiny' },
    seed: { type: 'string', description: 'seed (default 0)' },
    out: { type: 'string', description: 'name of the tuned model in the store' },
    steps: { type: 'string', description: 'override the number of optimizer steps' },
    db: { type: 'string', description: 'experiment store (default $XFER_DB or ./xfer.db)' },
  },
  subCommands: { resume },
  async run({ args, rawArgs }) {
    if (rawArgs[0] === 'resume') return;
    try {
      const seed = integerOption('seed', args.seed, 0);
      const steps = integerOption('steps', args.steps, 1);
      await execute({
        ...(args.recipe ? { recipe: args.recipe } : {}),
        base: args.base,
        preset: args.preset,
        ...(seed === undefined ? {} : { seed }),
        ...(steps === undefined ? {} : { steps }),
        ...(args.out ? { out: args.out } : {}),
        ...(args.db ? { db: args.db } : {}),
      });
    } catch (error) {
      reportError(error);
    }
  },
});
