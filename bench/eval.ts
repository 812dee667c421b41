/**
 * `pnpm bench:eval [requests] [concurrency] [repeats] [default|small]`: the evaluation runner's overhead against a bare
 * `fetch` loop, both driving the same nano endpoint (`xfer serve-model`, a separate process) on loopback.
 *
 * Workload: the first `requests` items of nano-arithmetic (default 32), greedy, 16 new tokens, on the default
 * nano architecture (random weights: the per-token compute, not the answers, matters here), or with `small`
 * on a 2-layer, 64-wide one where the model's time per request is short and the runner's own overhead as
 * visible as it can be (the stress case).
 * - bare: `concurrency` workers pull from a shared queue and `await fetch(...)` the very bodies the runner
 *   sends (`/v1/completions`, same prompt, sampling and seed), then parse the JSON;
 * - xfer: `runEvaluation` with `OpenAIEngine` at the same concurrency, into a fresh SQLite store: plan,
 *   request hashes, store look-up, HTTP with retries, zod validation, scoring, one transaction per sample,
 *   progress events.
 * Occupancy = mean requests in flight (sampled every 10 ms) / concurrency. Each side runs `repeats` times
 * (default 3), alternating. Prints each round, per-side medians, the runner's overhead per request (CPU time
 * of the client process, which is all xfer: the model runs in the server process), `ratio_median`, and last
 * `ratio=<fastest bare round / fastest xfer round>` (1 = no overhead; target ≥ 0.95). The fastest round is
 * the least disturbed one on a shared machine; the median ratio is printed beside it for honesty.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNanoModel, defaultNanoConfig, saveNanoCheckpoint } from '@xfer/engine-nano';
import { OpenAIEngine } from '@xfer/engine-openai';
import { planRequests, rendererFor, runEvaluation, selectBenchmarks } from '@xfer/eval';
import { openStore } from '@xfer/store';

const requests = Number(process.argv[2] ?? 32);
const concurrency = Number(process.argv[3] ?? 8);
const repeats = Number(process.argv[4] ?? 3);
const size = process.argv[5] ?? 'default';
const maxTokens = 16;

const directory = mkdtempSync(join(tmpdir(), 'xfer-bench-eval-'));
const checkpoint = join(directory, 'nano-bench');
const small = {
  hidden_size: 64,
  intermediate_size: 192,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
};
await saveNanoCheckpoint(
  createNanoModel({ ...defaultNanoConfig, ...(size === 'small' ? small : {}) }, 1),
  checkpoint,
);

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@xfer/source',
      'packages/cli/src/bin.ts',
      'serve-model',
      checkpoint,
      '--port',
      '0',
      '--name',
      'nano-bench',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /listening=(\S+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`serve-model exited with ${code}`)));
  });
}

const { child, url } = await startServer();
const ref = { kind: 'openai' as const, baseUrl: url, model: 'nano-bench', api: 'completions' as const };
const benchmarks = selectBenchmarks('nano-arithmetic', { limit: requests });
const settings = {
  benchmarks: ['nano-arithmetic'],
  samples: 1,
  seed: 0,
  concurrency,
  enableThinking: false,
  sampling: { maxTokens },
};

/** Mean of `read()` sampled every 2 ms while `task` runs. */
async function occupancy<T>(
  read: () => number,
  task: () => Promise<T>,
): Promise<{ result: T; occupancy: number }> {
  let sum = 0;
  let count = 0;
  const timer = setInterval(() => {
    sum += read();
    count += 1;
  }, 10);
  try {
    const result = await task();
    return { result, occupancy: count === 0 ? 0 : sum / count / concurrency };
  } finally {
    clearInterval(timer);
  }
}

// The exact bodies the runner sends, built from the same plan.
const probe = new OpenAIEngine({ ref, concurrency });
const info = await probe.info();
const plan = planRequests(info, await rendererFor(probe), benchmarks, {
  ...settings,
  sampling: { maxTokens },
});
const bodies = plan.map((planned) =>
  JSON.stringify({
    model: ref.model,
    max_tokens: planned.sampling.maxTokens,
    temperature: planned.sampling.temperature,
    top_p: planned.sampling.topP,
    seed: planned.sampling.seed,
    stream: false,
    prompt: planned.prompt,
  }),
);

interface Measured {
  seconds: number;
  /** CPU time of this (client) process per request: the server runs in another process. */
  cpuMs: number;
  occupancy: number;
  tokens: number;
}

async function bare(): Promise<Measured> {
  const cpu = process.cpuUsage();
  let next = 0;
  let inFlight = 0;
  let tokens = 0;
  const started = performance.now();
  const { occupancy: full } = await occupancy(
    () => inFlight,
    () =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            inFlight += 1;
            const response = await fetch(`${url}/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            const json = (await response.json()) as { usage: { completion_tokens: number } };
            inFlight -= 1;
            tokens += json.usage.completion_tokens;
          }
        }),
      ),
  );
  const used = process.cpuUsage(cpu);
  return {
    seconds: (performance.now() - started) / 1000,
    cpuMs: (used.user + used.system) / 1000 / requests,
    occupancy: full,
    tokens,
  };
}

async function runner(round: number): Promise<Measured> {
  const path = join(directory, `runner-${round}.db`);
  const store = openStore(path);
  const engine = new OpenAIEngine({ ref, concurrency });
  await engine.info();
  const model = store.models.create({ name: 'nano-bench', ref, method: 'base', modelHash: info.modelHash });
  let tokens = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { occupancy: full } = await occupancy(
    () => engine.limiter.inFlight,
    () =>
      runEvaluation({
        engine,
        store,
        modelId: model.id,
        benchmarks,
        settings,
        onProgress: (progress) => (tokens = progress.tokens),
      }),
  );
  const seconds = (performance.now() - started) / 1000;
  store.close();
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMs: (used.user + used.system) / 1000 / requests, occupancy: full, tokens };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
try {
  await bare(); // warm up the server (JIT, caches) before measuring
  const bareRuns: Measured[] = [];
  const xferRuns: Measured[] = [];
  for (let round = 0; round < repeats; round++) {
    bareRuns.push(await bare());
    xferRuns.push(await runner(round));
  }
  const bareSeconds = median(bareRuns.map((run) => run.seconds));
  const xferSeconds = median(xferRuns.map((run) => run.seconds));
  const line = (name: string, runs: Measured[], seconds: number) =>
    `${name}: model=${size} requests=${requests} concurrency=${concurrency} seconds=${seconds.toFixed(3)} requests_per_s=${(requests / seconds).toFixed(1)} client_cpu_ms_per_request=${median(runs.map((run) => run.cpuMs)).toFixed(2)} tokens=${runs[0]!.tokens} occupancy=${median(runs.map((run) => run.occupancy)).toFixed(3)}`;
  const rounds = (runs: Measured[]) => runs.map((run) => run.seconds.toFixed(2)).join(',');
  process.stdout.write(`rounds_seconds: bare=${rounds(bareRuns)} xfer=${rounds(xferRuns)}\n`);
  process.stdout.write(`${line('bare_fetch', bareRuns, bareSeconds)}\n`);
  process.stdout.write(`${line('xfer_runner', xferRuns, xferSeconds)}\n`);
  const overhead = median(xferRuns.map((run) => run.cpuMs)) - median(bareRuns.map((run) => run.cpuMs));
  process.stdout.write(`runner_overhead_cpu_ms_per_request=${overhead.toFixed(2)}\n`);
  const best = (runs: Measured[]) => Math.min(...runs.map((run) => run.seconds));
  process.stdout.write(`ratio_median=${(bareSeconds / xferSeconds).toFixed(3)}\n`);
  process.stdout.write(`ratio=${(best(bareRuns) / best(xferRuns)).toFixed(3)}\n`);
} finally {
  child.kill('SIGTERM');
  rmSync(directory, { recursive: true, force: true });
}
