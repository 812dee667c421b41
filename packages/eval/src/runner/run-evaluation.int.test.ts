import { EngineError, type GenerateRequest, XferError } from '@xfer/core';
import { MockEngine } from '@xfer/core/testing';
import { createTestStore, type TestStore } from '@xfer/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GenerativeScorer, LoglikelihoodScorer } from '../scorers/types.js';
import { assertComparable } from './comparability.js';
import { runEvaluation } from './run-evaluation.js';
import type { EvalBenchmark, EvalProgress } from './types.js';

// An exact-match scorer and a log-likelihood argmax scorer, as simple as the real ones are strict.
const exact: GenerativeScorer = {
  kind: 'generative',
  name: 'exact',
  version: '1',
  score: ({ item, completion }) => {
    const correct = completion.trim() === String(item.target);
    return {
      grader: 'exact',
      graderVersion: '1',
      extracted: completion.trim(),
      correct,
      score: correct ? 1 : 0,
      details: {},
    };
  },
};
const argmax: LoglikelihoodScorer = {
  kind: 'loglikelihood',
  name: 'll-argmax',
  version: '1',
  score: ({ item, choices }) => {
    const sums = choices.map((choice) => choice.logprobs.reduce((a, b) => a + b, 0));
    const best = sums.indexOf(Math.max(...sums));
    return {
      grader: 'll-argmax',
      graderVersion: '1',
      extracted: String(best),
      correct: best === item.target,
      score: best === item.target ? 1 : 0,
      details: { sums },
    };
  },
};

const arithmetic: EvalBenchmark = {
  id: 'toy-math',
  version: '1',
  group: 'math',
  kind: 'generative',
  items: Array.from({ length: 6 }, (_, i) => ({
    id: `q${i}`,
    benchmark: 'toy-math',
    input: { a: i, b: 2 },
    target: i + 2,
    meta: {},
  })),
  messages: (item) => [{ role: 'user', content: `What is ${item.input.a} + ${item.input.b}?` }],
  scorer: exact,
  sampling: { maxTokens: 8, temperature: 0.7 },
};
const trivia: EvalBenchmark = {
  id: 'toy-mc',
  version: '1',
  group: 'non',
  kind: 'loglikelihood',
  items: Array.from({ length: 4 }, (_, i) => ({
    id: `m${i}`,
    benchmark: 'toy-mc',
    input: {},
    target: i % 2,
    choices: ['yes', 'no!'],
    meta: {},
  })),
  messages: (item) => [{ role: 'user', content: `Question ${item.id}` }],
  scorer: argmax,
};

// The answer depends on the per-sample seed: right two times out of three, so samples really differ.
function answer(request: GenerateRequest): string | { text: string; finishReason: 'length' } {
  const match = /What is (\d+) \+ (\d+)/.exec(request.prompt);
  if (!match) return 'unparseable';
  if (request.sampling.seed % 7 === 0) return { text: '9999999', finishReason: 'length' };
  return request.sampling.seed % 3 === 0 ? 'wrong' : String(Number(match[1]) + Number(match[2]));
}
function engine(extra: { failOn?: string } = {}) {
  return new MockEngine({
    respond: (request) => {
      if (extra.failOn && request.id === extra.failOn) {
        throw new EngineError({
          engine: 'mock',
          requestId: request.id,
          message: 'gave up after 6 attempt(s)',
        });
      }
      return answer(request);
    },
    score: (request) => {
      const tokens = [...request.continuation];
      return {
        tokenIds: tokens.map((t) => t.charCodeAt(0)),
        tokens,
        logprobs: tokens.map(() => -1),
        ranks: tokens.map(() => 1),
        isGreedy: tokens.map(() => true),
      };
    },
    info: { modelHash: 'f'.repeat(64) },
  });
}
function sentIds(mock: MockEngine): string[] {
  return mock.calls.filter((call) => call.method === 'generate').flatMap((call) => call.ids);
}

let test: TestStore;
let modelId: string;
beforeEach(() => {
  test = createTestStore();
  modelId = test.store.models.create({
    name: 'toy',
    ref: { kind: 'nano', name: 'nano-base' },
    method: 'base',
  }).id;
});
afterEach(() => test.cleanup());

const settings = { samples: 4, seed: 3, concurrency: 3 };

describe('runEvaluation', () => {
  it('sends every request once, scores and stores each, and summarises the run', async () => {
    const mock = engine();
    const progress: EvalProgress[] = [];
    const result = await runEvaluation({
      engine: mock,
      store: test.store,
      modelId,
      benchmarks: [arithmetic, trivia],
      settings,
      onProgress: (p) => progress.push(p),
    });
    expect(result.total).toBe(6 * 4 + 4);
    expect(result.sent).toBe(28);
    expect(new Set(sentIds(mock)).size).toBe(24);
    const samples = test.store.samples.listRunSamples(result.runId);
    expect(samples).toHaveLength(28);
    expect(samples.every((sample) => sample.verdicts.length === 1)).toBe(true);
    // pass@1 recomputed by hand from what is stored
    const math = samples.filter((s) => s.benchmark === 'toy-math');
    const expected = math.filter((s) => s.verdicts[0]!.correct).length / math.length;
    const summary = result.summary.summary.benchmarks.find((b) => b.benchmark === 'toy-math')!;
    expect(summary.pass1.value).toBeCloseTo(expected, 12);
    expect(summary.truncationRate).toBeCloseTo(
      math.filter((s) => s.finishReason === 'length').length / 24,
      12,
    );
    expect(summary.pass1.low).toBeLessThanOrEqual(summary.pass1.value);
    expect(summary.pass1.high).toBeGreaterThanOrEqual(summary.pass1.value);
    const mc = result.summary.summary.benchmarks.find((b) => b.benchmark === 'toy-mc')!;
    expect(mc.pass1.value).toBe(0.5); // equal sums for 'yes' and 'no!': argmax picks choice 0, right on m0 and m2
    expect(test.store.evalRuns.require(result.runId).status).toBe('completed');
    expect(progress.at(-1)).toMatchObject({ done: 28, total: 28, etaSeconds: 0 });
    const kinds = test.store.events.list(result.runId).map((event) => event.kind);
    expect(kinds[0]).toBe('started');
    expect(kinds).toContain('progress');
    expect(kinds.at(-1)).toBe('completed');
  });

  it('a rerun sends nothing and gives the same results; other concurrency and batching give the same samples', async () => {
    const first = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings,
    });
    const again = engine();
    const second = await runEvaluation({
      engine: again,
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings,
    });
    expect(second.runId).toBe(first.runId);
    expect(second.resumed).toBe(true);
    expect(second.sent).toBe(0);
    expect(again.calls).toHaveLength(0);
    expect(second.summary.summary).toEqual(first.summary.summary);

    const other = createTestStore();
    try {
      const otherModel = other.store.models.create({
        name: 'toy',
        ref: { kind: 'nano', name: 'nano-base' },
        method: 'base',
      }).id;
      const third = await runEvaluation({
        engine: engine(),
        store: other.store,
        modelId: otherModel,
        benchmarks: [arithmetic],
        settings: { ...settings, concurrency: 1 },
        batchSize: 5,
      });
      const key = (s: { requestHash: string; completion: string }) => `${s.requestHash}:${s.completion}`;
      expect(other.store.samples.listRunSamples(third.runId).map(key).sort()).toEqual(
        test.store.samples.listRunSamples(first.runId).map(key).sort(),
      );
      expect(third.summary.summary.benchmarks).toEqual(first.summary.summary.benchmarks);
    } finally {
      other.cleanup();
    }
  });

  it('a failing request stops the run with its error, keeps every finished sample, and the rerun sends only the rest', async () => {
    const failing = engine({ failOn: 'toy-math/q3#1' });
    const error = await runEvaluation({
      engine: failing,
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings: { ...settings, concurrency: 1 },
    }).catch((e: unknown) => e);
    expect(EngineError.isInstance(error)).toBe(true);
    expect((error as EngineError).requestId).toBe('toy-math/q3#1');
    const runId = test.store.evalRuns.list()[0]!.id;
    const run = test.store.evalRuns.require(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('toy-math/q3#1');
    const kept = test.store.samples.listRunSamples(runId);
    expect(kept.length).toBe(13); // q0..q2 (12 samples) and q3#0 finished before the failure
    const resume = engine();
    const resumed = await runEvaluation({
      engine: resume,
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings,
    });
    expect(resumed.runId).toBe(runId);
    expect(resumed.cached).toBe(13);
    expect(sentIds(resume)).toHaveLength(24 - 13);
    expect(
      sentIds(resume).some((id) => kept.some((s) => `${s.benchmark}/${s.itemId}#${s.sampleIndex}` === id)),
    ).toBe(false);
    const clean = createTestStore();
    try {
      const cleanModel = clean.store.models.create({
        name: 'toy',
        ref: { kind: 'nano', name: 'nano-base' },
        method: 'base',
      }).id;
      const uninterrupted = await runEvaluation({
        engine: engine(),
        store: clean.store,
        modelId: cleanModel,
        benchmarks: [arithmetic],
        settings,
      });
      expect(resumed.summary.summary).toEqual(uninterrupted.summary.summary);
    } finally {
      clean.cleanup();
    }
  });

  it('a benchmark’s own sample count applies unless the settings fix one', async () => {
    const protocol = { ...arithmetic, samples: 3 };
    const own = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [protocol],
      settings: { seed: 3 },
    });
    expect(own.total).toBe(6 * 3);
    expect(own.summary.summary.benchmarks[0]?.samplesPerItem).toBe(3);
    const fixed = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [protocol],
      settings: { seed: 3, samples: 2 },
    });
    expect(fixed.total).toBe(6 * 2);
    expect(fixed.runId).not.toBe(own.runId);
    expect(fixed.sent).toBe(0); // samples 0 and 1 of every item were computed by the first run
  });

  it('cancelling stops sending, keeps what finished, and never stores a cancelled generation', async () => {
    const controller = new AbortController();
    const error = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings: { ...settings, concurrency: 1 },
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.done >= 5) controller.abort();
      },
    }).catch((caught: unknown) => caught);
    expect(XferError.hasCode(error, 'CANCELLED')).toBe(true);
    const run = test.store.evalRuns.list()[0]!;
    expect(run.status).toBe('cancelled');
    expect(test.store.samples.countRunSamples(run.id)).toBe(5);

    const partial = new MockEngine({
      respond: (request) =>
        request.id === 'toy-math/q4#2' ? { text: 'The ans', finishReason: 'cancelled' } : answer(request),
      info: { modelHash: 'f'.repeat(64) },
    });
    const failed = await runEvaluation({
      engine: partial,
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings,
    }).catch((caught: unknown) => caught);
    expect(String((failed as Error).message)).toContain('1 requests of');
    const stored = test.store.samples.listRunSamples(run.id);
    expect(stored).toHaveLength(23);
    expect(stored.some((sample) => sample.finishReason === 'cancelled')).toBe(false);
    const done = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings,
    });
    expect([done.cached, done.sent]).toEqual([23, 1]);
  });

  it('runs with other settings do not compare unless forced', async () => {
    const a = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings,
    });
    const b = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [arithmetic],
      settings: { ...settings, sampling: { maxTokens: 4 } },
    });
    expect(b.runId).not.toBe(a.runId);
    const runs = [test.store.evalRuns.require(a.runId), test.store.evalRuns.require(b.runId)];
    expect(() => assertComparable(runs)).toThrow(expect.objectContaining({ code: 'INCOMPARABLE_RUNS' }));
    const warnings: string[] = [];
    const differences = assertComparable(runs, {
      force: true,
      onWarning: (message) => warnings.push(message),
    });
    expect(differences.map((d) => d.field)).toEqual(['samplingHash']);
    expect(warnings[0]).toContain('samplingHash');
    expect(assertComparable([runs[0]!, runs[0]!])).toEqual([]);
    expect(XferError.isInstance(new XferError({ code: 'INCOMPARABLE_RUNS', message: '' }))).toBe(true);
  });

  it('thinking mode opens generation prompts only: log-likelihood answers follow a closed think block', async () => {
    const renderer = {
      sha256: 'a'.repeat(64),
      render: (messages: readonly { content: string }[], options: { enableThinking: boolean }) =>
        `${messages.map((message) => message.content).join('\n')}${options.enableThinking ? '<think>\n' : '<think></think>'}`,
    };
    const result = await runEvaluation({
      engine: engine(),
      store: test.store,
      modelId,
      benchmarks: [arithmetic, trivia],
      renderer,
      settings: { ...settings, enableThinking: true },
    });
    const samples = test.store.samples.listRunSamples(result.runId);
    expect(
      samples.filter((s) => s.benchmark === 'toy-math').every((s) => s.prompt.endsWith('<think>\n')),
    ).toBe(true);
    const choices = samples.filter((s) => s.benchmark === 'toy-mc');
    expect(choices).toHaveLength(4);
    expect(choices.every((s) => s.prompt.endsWith('<think></think>'))).toBe(true);
    expect(test.store.evalRuns.require(result.runId).settings.enableThinking).toBe(true);
  });
});
