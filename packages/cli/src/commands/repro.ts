import { defineCommand } from 'citty';
import { integerOption } from '../options.js';
import { formatDuration, ProgressLine } from '../progress.js';
import { reportError } from '../report-error.js';

export default defineCommand({
  meta: {
    name: 'repro',
    description:
      'Run the paper’s controlled experiment in miniature: evaluate nano-base on the nano-suite, train SFT-think, SFT-no-think and RL on math only, evaluate them, compute TI, PCA shift and token shift, and write a report.',
  },
  args: {
    base: { type: 'string', default: 'nano-base', description: 'base model' },
    preset: { type: 'string', default: 'nano', description: 'training preset (nano | tiny)' },
    recipes: { type: 'string', default: 'sft-think,sft-no-think,rl', description: 'comma-separated recipes' },
    seed: { type: 'string', default: '0', description: 'seed of everything' },
    'eval-items': { type: 'string', description: 'items per nano task (default 200)' },
    steps: { type: 'string', description: 'override every recipe’s optimizer steps (smoke runs)' },
    db: { type: 'string', description: 'experiment store (default $XFER_DB or ./xfer.db)' },
    out: { type: 'string', default: '.xfer', description: 'folder for runs and the report' },
  },
  async run({ args }) {
    const bar = new ProgressLine();
    try {
      const { defaultStorePath, openStore } = await import('@xfer/store');
      const { runRepro } = await import('@xfer/pipeline');
      const { nanoPipelineEngines, resolveNanoModel } = await import('../nano-engines.js');
      const seed = integerOption('seed', args.seed, 0) ?? 0;
      const evalItems = integerOption('eval-items', args['eval-items'], 1);
      const steps = integerOption('steps', args.steps, 1);
      const store = openStore(args.db ?? defaultStorePath());
      try {
        const result = await runRepro({
          store,
          engines: await nanoPipelineEngines(),
          base: await resolveNanoModel(args.base),
          recipes: args.recipes
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
          preset: args.preset,
          seed,
          root: args.out,
          ...(evalItems === undefined ? {} : { evalItems }),
          ...(steps === undefined ? {} : { overrides: { steps } }),
          onStage: (stage) => {
            bar.done();
            process.stderr.write(`▸ ${stage}\n`);
          },
          onTrainingProgress: (_recipe, p) =>
            bar.update(
              p.step,
              p.totalSteps,
              `loss ${p.loss.toFixed(3)}${p.reward === undefined ? '' : ` reward ${p.reward.toFixed(2)}`} ${p.tokensPerSecond.toFixed(0)} tok/s eta ${formatDuration(p.etaSeconds)}`,
            ),
          onEvalProgress: (_model, done, total, tokensPerSecond) =>
            bar.update(done, total, `${tokensPerSecond.toFixed(0)} tok/s`),
        });
        bar.done();
        const fmt = (value: number | null | undefined) =>
          value === null || value === undefined ? 'n/a' : value.toFixed(1);
        for (const model of result.models) {
          const groups = `math=${model.groups.math.value.toFixed(1)} other=${model.groups.other.value.toFixed(1)} non=${model.groups.non.value.toFixed(1)}`;
          const ti = model.ti
            ? ` ti_other=${fmt(model.ti.v1.point.tiOther)} ti_non=${fmt(model.ti.v1.point.tiNon)}`
            : '';
          process.stdout.write(`model=${model.name} ${groups}${ti}\n`);
        }
        process.stdout.write(`${result.finding.statement}\n`);
        process.stdout.write(`report=${result.reportPath} seconds=${result.seconds.toFixed(0)}\n`);
      } finally {
        store.close();
      }
    } catch (error) {
      bar.done();
      reportError(error);
    }
  },
});
