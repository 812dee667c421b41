import { readFile, writeFile } from 'node:fs/promises';
import { ValidationError } from '@xfer/core';
import { createPaperRegistry, scoreResponses } from '@xfer/eval';
import { defineCommand } from 'citty';
import { reportError } from '../report-error.js';

/**
 * `xfer score`: re-score a JSONL file of model responses with xfer's graders. Prints the disagreement audit
 * and the answer-position-bias check when they apply; the LAST line is always the summary
 * `accuracy=<x> n=<n> ...`.
 */
export default defineCommand({
  meta: {
    name: 'score',
    description: "Score a file of model responses offline with one of the paper's 12 benchmarks",
  },
  args: {
    benchmark: {
      type: 'string',
      required: true,
      description: 'benchmark id (math-500, aime24, gpqa-diamond, ...)',
    },
    responses: {
      type: 'string',
      required: true,
      description: 'JSONL: {"id": <item id or index>, "response": "<text>"}',
    },
    out: { type: 'string', description: 'write one verdict per line here (JSONL)' },
    grader: {
      type: 'string',
      description: 'grader to report as primary (e.g. math-symbolic); the others run beside it',
    },
    'data-dir': {
      type: 'string',
      description: 'benchmark data root (default $XFER_DATA_DIR or ../shared/benchmarks)',
    },
    split: { type: 'string', description: 'split for benchmarks that have several (acpbench: dev|test)' },
    variant: {
      type: 'string',
      description: 'protocol variant (gpqa-diamond: paper|per-item|none; aime: lm-eval)',
    },
    seed: {
      type: 'string',
      description: 'seed for loaders that draw (per-item shuffles, HaluEval coin flips)',
    },
    file: { type: 'string', description: 'read the items from this file instead of the default data file' },
  },
  async run({ args }) {
    try {
      await score(args);
    } catch (error) {
      reportError(error);
    }
  },
});

async function score(args: {
  benchmark: string;
  responses: string;
  out?: string | undefined;
  grader?: string | undefined;
  'data-dir'?: string | undefined;
  split?: string | undefined;
  variant?: string | undefined;
  seed?: string | undefined;
  file?: string | undefined;
}): Promise<void> {
  const benchmark = createPaperRegistry().get(args.benchmark);
  const seed = args.seed === undefined ? undefined : Number(args.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new ValidationError({ field: 'seed', message: 'expected an integer' });
  const items = await benchmark.load({
    ...(args['data-dir'] === undefined ? {} : { dataDir: args['data-dir'] }),
    ...(args.split === undefined ? {} : { split: args.split }),
    ...(args.variant === undefined ? {} : { variant: args.variant }),
    ...(seed === undefined ? {} : { seed }),
    ...(args.file === undefined ? {} : { files: [args.file] }),
  });
  let text: string;
  try {
    text = await readFile(args.responses, 'utf8');
  } catch (cause) {
    throw new ValidationError({
      file: args.responses,
      message: `cannot read responses: ${(cause as Error).message}`,
      cause,
    });
  }
  const result = await scoreResponses({
    benchmark,
    items,
    text,
    file: args.responses,
    ...(args.grader === undefined ? {} : { grader: args.grader }),
  });
  if (args.out !== undefined) {
    await writeFile(
      args.out,
      result.lines.map((line) => JSON.stringify(line)).join('\n') + (result.lines.length > 0 ? '\n' : ''),
    );
  }
  const out = process.stdout;
  if (result.audit !== undefined && result.audit.disagreements.length > 0) {
    out.write(
      `grader disagreements: ${result.audit.disagreements.length} (${Object.entries(result.audit.counts)
        .map(([key, count]) => `${key}=${count}`)
        .join(', ')})\n`,
    );
    for (const row of result.audit.disagreements.slice(0, 20)) {
      out.write(
        `  ${row.id}: gold=${JSON.stringify(row.gold)} extracted=${JSON.stringify(row.extracted)} ${JSON.stringify(row.verdicts)}\n`,
      );
    }
  }
  if (result.positionBias !== undefined) out.write(`${result.positionBias.message}\n`);
  out.write(`${result.summary}\n`);
}
