import { EngineError } from '@xfer/core';
import { createNanoModel, decodeTokens, encodeText, NanoEngine } from '@xfer/engine-nano';
import { tinyNanoConfig } from '@xfer/engine-nano/testing';
import { OpenAIEngine } from '@xfer/engine-openai';
import { runEvaluation, selectBenchmarks } from '@xfer/eval';
import { createTestStore, type TestStore } from '@xfer/store/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { listen, type RunningServer } from '../listen.js';
import { type Fault, startFaultProxy } from '../testing/fault-proxy.js';

// The whole path: runner → engine-openai → flaky proxy → endpoint → NanoEngine, against the runner driving
// the same NanoEngine in-process. Same hashes (the endpoint advertises the checkpoint and its template), so
// the two runs must store exactly the same samples.
const nano = new NanoEngine(createNanoModel(tinyNanoConfig(), 21), { name: 'nano-tiny' });
const benchmarks = selectBenchmarks('nano-arithmetic,nano-medical', { limit: 4 });
const settings = { samples: 2, seed: 5, concurrency: 3, sampling: { maxTokens: 12 } };

let server: RunningServer;
let stores: TestStore[] = [];
beforeAll(async () => {
  server = await listen(
    createApp({ engines: { 'nano-tiny': { engine: nano, decode: decodeTokens, encode: encodeText } } }),
  );
});
afterAll(() => server.close());
beforeEach(() => {
  stores = [];
});
afterEach(() => {
  for (const store of stores) store.cleanup();
});

function freshStore() {
  const test = createTestStore();
  stores.push(test);
  const modelId = test.store.models.create({
    name: 'nano-tiny',
    ref: { kind: 'nano', name: 'nano-tiny' },
    method: 'base',
  }).id;
  return { store: test.store, modelId };
}

/**
 * What must agree: generative samples exactly (hash, text, finish reason, verdict); log-likelihood samples by
 * hash and verdict, with logprobs equal to float32 precision (ranks beyond the top 5 are lower bounds over
 * HTTP, and token ids are not exposed, so the stored details differ there).
 */
function rows(test: ReturnType<typeof freshStore>, runId: string) {
  return test.store.samples
    .listRunSamples(runId)
    .sort((a, b) => a.requestHash.localeCompare(b.requestHash))
    .map((sample) => {
      const verdict = sample.verdicts[0];
      if (sample.benchmark === 'nano-medical') {
        const choices = (JSON.parse(sample.completion) as { choices: { logprobs: number[] }[] }).choices;
        return {
          hash: sample.requestHash,
          verdict: verdict?.score,
          extracted: verdict?.extracted,
          logprobs: choices.map((c) => c.logprobs),
        };
      }
      return {
        hash: sample.requestHash,
        text: sample.completion,
        finish: sample.finishReason,
        verdict: verdict?.score,
      };
    });
}

describe('runner over the endpoint with injected faults', () => {
  it('completes with exactly the samples of an in-process run', async () => {
    const direct = freshStore();
    const local = await runEvaluation({ engine: nano, ...direct, benchmarks, settings });

    const faults: Record<number, Fault> = {
      2: { kind: 'status', status: 429, retryAfter: '0' },
      4: { kind: 'status', status: 502 },
      6: { kind: 'drop' },
      8: { kind: 'malformed' },
      10: { kind: 'hang' },
      12: { kind: 'drop-mid-body' },
    };
    const proxy = await startFaultProxy(server.url, (index) => faults[index]);
    try {
      const engine = new OpenAIEngine({
        ref: { kind: 'openai', baseUrl: `${proxy.url}/v1`, model: 'nano-tiny', api: 'chat' },
        concurrency: 3,
        timeoutMs: 1_500,
        retry: { baseDelayMs: 5, maxDelayMs: 50 },
      });
      const remote = freshStore();
      const over = await runEvaluation({ engine, ...remote, benchmarks, settings });
      expect(engine.retriesUsed).toBe(6);
      expect(over.total).toBe(local.total);
      const remoteRows = rows(remote, over.runId);
      const localRows = rows(direct, local.runId);
      expect(remoteRows.map(({ logprobs, ...rest }) => rest)).toEqual(
        localRows.map(({ logprobs, ...rest }) => rest),
      );
      remoteRows.forEach((row, index) => {
        const expected = localRows[index]!.logprobs;
        if (!expected) return;
        row.logprobs!.flat().forEach((value, position) => {
          expect(value).toBeCloseTo(expected.flat()[position]!, 4);
        });
      });
      expect(over.summary.summary.benchmarks).toEqual(local.summary.summary.benchmarks);
    } finally {
      await proxy.close();
    }
  });

  it('past the engine-wide retry budget the run fails naming the request, keeping what finished', async () => {
    const proxy = await startFaultProxy(server.url, (index, path) =>
      path.endsWith('/models') || index % 3 !== 0 ? undefined : { kind: 'status', status: 503 },
    );
    try {
      const engine = new OpenAIEngine({
        ref: { kind: 'openai', baseUrl: `${proxy.url}/v1`, model: 'nano-tiny', api: 'chat' },
        concurrency: 2,
        retry: { baseDelayMs: 1, maxDelayMs: 2, retryBudget: 3 },
      });
      const remote = freshStore();
      const error = await runEvaluation({ engine, ...remote, benchmarks, settings }).catch(
        (caught: unknown) => caught,
      );
      expect(EngineError.isInstance(error)).toBe(true);
      expect((error as EngineError).message).toContain('engine retry budget exhausted');
      expect((error as EngineError).requestId).toMatch(/^nano-[\w-]+\/nano-[\w-]+#\d(\/choice\d)?$/);
      const run = remote.store.evalRuns.list()[0]!;
      expect(run.status).toBe('failed');
      expect(run.error).toContain((error as EngineError).requestId!);
      const kept = remote.store.samples.countRunSamples(run.id);
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(20);
    } finally {
      await proxy.close();
    }
  });
});
