import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchmarkGroup } from '@xfer/core';
import { ValidationError } from '@xfer/core';
import { defineCommand } from 'citty';
import { integerOption } from '../options.js';
import { reportError } from '../report-error.js';

/** `--groups`: inline JSON (`{"my-bench":"math"}`) or the path of a JSON file holding the same. */
async function readGroups(value: string | undefined): Promise<Record<string, BenchmarkGroup>> {
  if (value === undefined) return {};
  const { parseBenchmarkGroups } = await import('@xfer/analysis');
  if (value.trim().startsWith('{')) return parseBenchmarkGroups(value, { field: '--groups' });
  return parseBenchmarkGroups(readFileSync(value, 'utf8'), { file: value });
}

/** The nano suite's benchmark groups from the eval registry (empty if the registry cannot load). */
async function nanoGroups(): Promise<Record<string, BenchmarkGroup>> {
  try {
    const { nanoTasks } = await import('@xfer/eval');
    return Object.fromEntries(nanoTasks.map((task) => [task.id, task.group]));
  } catch {
    return {};
  }
}

function interval(value: { estimate: number | null; low: number | null; high: number | null }): string {
  const format = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  return `${format(value.estimate)} [${format(value.low)}, ${format(value.high)}]`;
}

export default defineCommand({
  meta: {
    name: 'ti',
    description:
      'Transferability Index (paper v1 or v2 formula): from a score table (--scores file.csv) or from two stored evaluation runs with paired bootstrap intervals (--run, --base-run)',
  },
  args: {
    scores: {
      type: 'string',
      description: 'CSV: model, base (empty for bases), one column per benchmark id (percent)',
    },
    formula: {
      type: 'string',
      default: 'v2',
      description: 'v1 (mean relative gain) or v2 (z-normalised signed sqrt)',
    },
    groups: {
      type: 'string',
      description: 'benchmark groups as JSON or a JSON file: {"id": "math"|"other"|"non"}',
    },
    run: { type: 'string', description: 'evaluation run id of the tuned model (store mode)' },
    'base-run': { type: 'string', description: 'evaluation run id of its base (store mode)' },
    db: { type: 'string', description: 'experiment store (store mode) (default $XFER_DB or ./xfer.db)' },
    resamples: { type: 'string', default: '2000', description: 'bootstrap replicates (store mode)' },
    seed: { type: 'string', default: '0', description: 'bootstrap seed (store mode)' },
    save: { type: 'boolean', default: false, description: 'store the analysis (store mode)' },
    json: { type: 'boolean', default: false, description: 'print JSON instead of a table' },
    svg: { type: 'string', description: 'also write the TI scatter (score-table mode) to this SVG file' },
  },
  async run({ args }) {
    try {
      const formula = args.formula;
      if (formula !== 'v1' && formula !== 'v2') {
        throw new ValidationError({ field: '--formula', message: `expected v1 or v2, got '${formula}'` });
      }
      const analysis = await import('@xfer/analysis');
      const groups = { ...(await nanoGroups()), ...(await readGroups(args.groups)) };
      if (args.scores !== undefined) {
        const table = analysis.parseScoreTable(readFileSync(args.scores, 'utf8'), {
          file: args.scores,
          groups,
        });
        const results = analysis.tableTransferability(table, { formula });
        if (args.json) {
          process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
          return;
        }
        process.stdout.write(`formula=${formula} models=${results.length}\n`);
        process.stdout.write(`${analysis.formatTiTable(results)}\n`);
        for (const result of results) {
          for (const note of result.notes) process.stdout.write(`note: ${result.model}: ${note}\n`);
        }
        if (args.svg !== undefined) {
          const points = results.map((result) => ({
            model: result.model,
            base: result.base,
            method: result.method ?? 'other',
            tiOther: result.tiOther,
            tiNon: result.tiNon,
          }));
          const title = `Transferability Index (${formula})`;
          writeFileSync(args.svg, await analysis.renderSvg(analysis.tiScatterSpec(points, title)));
          process.stdout.write(`figure=${args.svg}\n`);
        }
        return;
      }
      if (args.run === undefined || args['base-run'] === undefined) {
        throw new ValidationError({
          field: '--scores',
          message: 'give --scores <file.csv>, or --run and --base-run',
        });
      }
      const resamples = integerOption('resamples', args.resamples, 1);
      const seed = integerOption('seed', args.seed, 0);
      const { defaultStorePath, openStore } = await import('@xfer/store');
      const store = openStore(args.db ?? defaultStorePath());
      try {
        const result = analysis.storeTransferability(store, {
          modelRunId: args.run,
          baseRunId: args['base-run'],
          formula,
          resamples,
          seed,
          groups,
          save: args.save,
        });
        if (args.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        process.stdout.write(`formula=${formula} resamples=${resamples} seed=${seed} confidence=0.95\n`);
        for (const delta of result.deltas) {
          process.stdout.write(`${delta.benchmark}: items=${delta.items} delta=${interval(delta)}\n`);
        }
        for (const note of result.point.notes) process.stdout.write(`note: ${note}\n`);
        if (result.analysis) process.stdout.write(`analysis=${result.analysis.id}\n`);
        process.stdout.write(`ti_other=${interval(result.tiOther)} ti_non=${interval(result.tiNon)}\n`);
      } finally {
        store.close();
      }
    } catch (error) {
      reportError(error);
    }
  },
});
