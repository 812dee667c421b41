import { defineCommand } from 'citty';
import { reportError } from '../report-error.js';

export default defineCommand({
  meta: {
    name: 'results',
    description: 'Print a stored evaluation run: scores per benchmark and group with confidence intervals',
  },
  args: {
    run: { type: 'positional', required: true, description: 'evaluation run id' },
    db: { type: 'string', description: 'experiment store (default $XFER_DB or ./xfer.db)' },
    against: {
      type: 'string',
      description: 'another run to check comparability with (refuses if settings differ)',
    },
    force: {
      type: 'boolean',
      default: false,
      description: 'with --against: compare even if settings differ (warns)',
    },
    json: { type: 'boolean', default: false, description: 'print JSON' },
  },
  async run({ args }) {
    try {
      const { assertComparable, formatResultsTable, summarizeRun } = await import('@xfer/eval');
      const { defaultStorePath, openStore } = await import('@xfer/store');
      const store = openStore(args.db ?? defaultStorePath(), { mustExist: true });
      try {
        const result = summarizeRun(store, args.run);
        if (args.against !== undefined) {
          assertComparable([result.run, store.evalRuns.require(args.against)], {
            force: args.force,
            onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
          });
        }
        if (args.json) {
          process.stdout.write(
            `${JSON.stringify({ run: result.run, summary: result.summary, unscored: result.unscored }, null, 2)}\n`,
          );
          return;
        }
        process.stdout.write(`${formatResultsTable(result)}\n`);
        const samples = result.summary.benchmarks.reduce((sum, benchmark) => sum + benchmark.samples, 0);
        process.stdout.write(
          `run=${result.run.id} status=${result.run.status} samples=${samples} unscored=${result.unscored}\n`,
        );
      } finally {
        store.close();
      }
    } catch (error) {
      reportError(error);
    }
  },
});
