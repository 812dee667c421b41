import { EngineError, type EngineV1, formatModelRef, type ModelRef, parseModelRef } from '@xfer/core';
import { defineCommand } from 'citty';
import { integerOption, numberOption } from '../options.js';
import { reportError } from '../report-error.js';

/** Build the engine a model reference names. */
export async function engineForRef(
  ref: ModelRef,
  concurrency: number,
  enableThinking = false,
): Promise<EngineV1> {
  switch (ref.kind) {
    case 'nano': {
      const { createNanoEngine } = await import('@xfer/engine-nano');
      const { nanoSearchPaths } = await import('../nano-engines.js');
      return createNanoEngine(ref, { searchPaths: nanoSearchPaths() });
    }
    case 'openai': {
      const { OpenAIEngine } = await import('@xfer/engine-openai');
      return new OpenAIEngine({ ref, concurrency, chatTemplateKwargs: { enable_thinking: enableThinking } });
    }
    default:
      throw new EngineError({
        engine: 'cli',
        code: 'ENGINE_UNSUPPORTED',
        message: `${formatModelRef(ref)}: serve it with vLLM/SGLang and pass "http://host:port/v1#<model>", or use a nano model`,
      });
  }
}

function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  const hours = Math.floor(minutes / 60);
  const pad = (value: number) => String(value).padStart(2, '0');
  return hours > 0
    ? `${hours}:${pad(minutes % 60)}:${pad(whole % 60)}`
    : `${pad(minutes)}:${pad(whole % 60)}`;
}

export default defineCommand({
  meta: {
    name: 'eval',
    description:
      'Evaluate a model on benchmarks (ids, a group, nano-suite or paper). Every sample is stored as it lands; rerunning the same command resumes without sending a finished request again.',
  },
  args: {
    model: {
      type: 'string',
      required: true,
      description: 'nano-base | nano:<dir> | http://host:port/v1#<model> | openai:<url>#<model>',
    },
    benchmarks: {
      type: 'string',
      required: true,
      description:
        'comma-separated ids (nano-* or the paper’s), nano-suite, paper, or a group (math, other, non: nano tasks for nano models, the paper’s otherwise)',
    },
    'data-dir': {
      type: 'string',
      description: 'root of the paper benchmark files (default $XFER_DATA_DIR or ../shared/benchmarks)',
    },
    samples: { type: 'string', description: 'samples per item (default 1)' },
    seed: { type: 'string', description: 'run seed (default 0)' },
    'max-tokens': {
      type: 'string',
      description: 'generation budget per sample (default: each benchmark’s own)',
    },
    temperature: { type: 'string', description: 'sampling temperature (default: each benchmark’s own)' },
    concurrency: { type: 'string', default: '8', description: 'requests in flight' },
    'batch-size': {
      type: 'string',
      description: 'requests per engine call (default 1; in-process nano: 16)',
    },
    limit: { type: 'string', description: 'evaluate only the first n items of each benchmark' },
    thinking: { type: 'boolean', default: false, description: 'render prompts with enable_thinking' },
    db: { type: 'string', description: 'experiment store (default $XFER_DB or ./xfer.db)' },
    name: { type: 'string', description: 'model name in the store (default: the reference)' },
    json: { type: 'boolean', default: false, description: 'print the summary as JSON' },
  },
  async run({ args }) {
    try {
      const ref = parseModelRef(args.model);
      const concurrency = integerOption('concurrency', args.concurrency, 1) ?? 8;
      const samples = integerOption('samples', args.samples, 1);
      const seed = integerOption('seed', args.seed, 0);
      const maxTokens = integerOption('max-tokens', args['max-tokens'], 1);
      const temperature = numberOption('temperature', args.temperature);
      const limit = integerOption('limit', args.limit, 1);
      const batchSize = integerOption('batch-size', args['batch-size'], 1) ?? (ref.kind === 'nano' ? 16 : 1);
      const { formatResultsTable, loadBenchmarks, runEvaluation } = await import('@xfer/eval');
      const { defaultStorePath, openStore } = await import('@xfer/store');
      const benchmarks = await loadBenchmarks(args.benchmarks, {
        suite: ref.kind === 'nano' ? 'nano' : 'paper',
        enableThinking: args.thinking,
        ...(typeof args['data-dir'] === 'string' ? { dataDir: args['data-dir'] } : {}),
      });
      const engine = await engineForRef(ref, concurrency, args.thinking);
      const store = openStore(args.db ?? defaultStorePath());
      try {
        const info = await engine.info();
        const name = args.name ?? formatModelRef(ref);
        const model = store.models.ensure({ name, ref, method: 'base', modelHash: info.modelHash });
        const tty = process.stderr.isTTY === true;
        let lastLine = 0;
        // Ctrl-C: stop sending, let the requests in flight land and be stored, mark the run cancelled.
        // A second Ctrl-C exits at once (the run resumes from the store either way).
        const controller = new AbortController();
        const onInterrupt = () => {
          if (controller.signal.aborted) process.exit(130);
          process.stderr.write('\nxfer: stopping after the requests in flight (Ctrl-C again to quit now)\n');
          controller.abort();
        };
        process.on('SIGINT', onInterrupt);
        const result = await runEvaluation({
          engine,
          store,
          signal: controller.signal,
          modelId: model.id,
          benchmarks,
          batchSize,
          settings: {
            concurrency,
            enableThinking: args.thinking,
            ...(samples === undefined ? {} : { samples }),
            ...(seed === undefined ? {} : { seed }),
            ...(limit === undefined ? {} : { limit }),
            sampling: {
              ...(maxTokens === undefined ? {} : { maxTokens }),
              ...(temperature === undefined ? {} : { temperature }),
            },
          },
          onProgress: (progress) => {
            const fraction = progress.total === 0 ? 1 : progress.done / progress.total;
            const figures = `${progress.done}/${progress.total} ${progress.tokensPerSecond.toFixed(1)} tok/s eta ${formatSeconds(progress.etaSeconds)} truncated ${progress.truncations} cached ${progress.cached}`;
            if (tty) {
              const width = 30;
              const filled = Math.round(fraction * width);
              process.stderr.write(
                `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${figures}\u001b[K`,
              );
            } else if (Date.now() - lastLine >= 2000 || progress.done === progress.total) {
              lastLine = Date.now();
              process.stderr.write(`progress ${figures}\n`);
            }
          },
        });
        if (tty) process.stderr.write('\n');
        if (args.json) process.stdout.write(`${JSON.stringify(result.summary.summary, null, 2)}\n`);
        else process.stdout.write(`${formatResultsTable(result.summary)}\n`);
        process.stdout.write(
          `run=${result.runId} total=${result.total} sent=${result.sent} cached=${result.cached} resumed=${result.resumed}\n`,
        );
      } finally {
        store.close();
        await engine.close();
      }
    } catch (error) {
      reportError(error);
    }
  },
});
