import { type TrainingConfigInput, XferError } from '@xfer/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestStore, type TestStore } from '../testing.js';
import { comparabilityKey } from './eval-runs.js';

const config: TrainingConfigInput = {
  recipe: 'sft-teacher',
  preset: 'nano',
  seed: 3,
  levers: { sampler: 'teacher', weights: 'uniform', negatives: false, loss: {} },
  optimizer: {},
  learningRate: 3e-4,
  schedule: { kind: 'cosine', warmupRatio: 0.1 },
  gradClip: 1,
  epochs: 2,
  batchSize: 8,
  microBatchSize: 4,
  samplesPerPrompt: 4,
  maxSequenceLength: 512,
  checkpointEvery: 10,
};

let test: TestStore;
beforeEach(() => {
  test = createTestStore();
  test.store.models.create({
    id: 'base',
    name: 'nano-base',
    ref: { kind: 'nano', name: 'nano-base' },
    method: 'base',
  });
});
afterEach(() => test.cleanup());

const evalInput = {
  modelId: 'base',
  settings: { benchmarks: ['nano-arith', 'nano-qa'], samples: 4 },
  modelHash: 'mh',
  chatTemplateHash: 'th',
  samplingHash: 'sh',
  scorerVersions: { exact: '1' },
  benchmarkHashes: { 'nano-arith': 'h1' },
};

describe('EvalRunRepository', () => {
  it('creates a run with defaults filled in and stamps status times', () => {
    const run = test.store.evalRuns.create(evalInput);
    expect(run).toMatchObject({ status: 'pending', startedAt: null, finishedAt: null });
    expect(run.settings).toMatchObject({
      benchmarks: ['nano-arith', 'nano-qa'],
      samples: 4,
      seed: 0,
      concurrency: 8,
    });
    const running = test.store.evalRuns.setStatus(run.id, 'running');
    expect(running.startedAt).toBeGreaterThanOrEqual(run.createdAt);
    const failed = test.store.evalRuns.setStatus(run.id, 'failed', { error: 'engine died' });
    expect(failed).toMatchObject({ status: 'failed', error: 'engine died', startedAt: running.startedAt });
    expect(failed.finishedAt).not.toBeNull();
    expect(test.store.evalRuns.list({ status: 'failed' }).map((item) => item.id)).toEqual([run.id]);
    expect(test.store.evalRuns.list({ status: 'running' })).toEqual([]);
  });

  it('compares runs by their hashes only', () => {
    const a = test.store.evalRuns.create(evalInput);
    const b = test.store.evalRuns.create({ ...evalInput, settings: { benchmarks: ['other'] } });
    const c = test.store.evalRuns.create({ ...evalInput, scorerVersions: { exact: '2' } });
    expect(comparabilityKey(a)).toBe(comparabilityKey(b));
    expect(comparabilityKey(a)).not.toBe(comparabilityKey(c));
  });

  it('reports a missing model as CONFLICT, bad settings as a ValidationError, a missing run as NOT_FOUND', () => {
    expect(() => test.store.evalRuns.create({ ...evalInput, modelId: 'ghost' })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => test.store.evalRuns.create({ ...evalInput, settings: { benchmarks: [] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', field: 'settings.benchmarks' }),
    );
    expect(() => test.store.evalRuns.setStatus('ghost', 'running')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});

describe('EventRepository', () => {
  it('numbers events per run and resumes after a sequence number', () => {
    const events = test.store.events;
    events.appendMany('run-a', [{ kind: 'started' }, { kind: 'progress', payload: { done: 1 } }]);
    events.append('run-b', 'started');
    events.append('run-a', 'progress', { done: 2 });
    expect(events.list('run-a').map((event) => [event.seq, event.kind])).toEqual([
      [1, 'started'],
      [2, 'progress'],
      [3, 'progress'],
    ]);
    expect(events.list('run-a', { afterSeq: 1, limit: 1 }).map((event) => event.payload)).toEqual([
      { done: 1 },
    ]);
    expect(events.list('run-b').map((event) => event.seq)).toEqual([1]);
    expect(() => events.append('run-a', '')).toThrow(expect.objectContaining({ field: 'events[0].kind' }));
  });
});

describe('TrainingRepository', () => {
  it('creates a run from a validated config, logs metrics in batches and records checkpoints', () => {
    const training = test.store.training;
    const run = training.createRun({ baseModelId: 'base', config });
    expect(run).toMatchObject({ recipe: 'sft-teacher', status: 'pending', outputModelId: null });
    expect(run.config.optimizer).toMatchObject({ kind: 'adamw', beta1: 0.9 });

    expect(
      training.appendMetrics([
        { runId: run.id, name: 'loss', step: 1, value: 2.5, time: 10 },
        { runId: run.id, name: 'loss', step: 0, value: 3, time: 5 },
        { runId: run.id, name: 'lr', step: 0, value: 1e-4 },
      ]),
    ).toBe(3);
    expect(training.listMetrics(run.id, 'loss').map((point) => [point.step, point.value])).toEqual([
      [0, 3],
      [1, 2.5],
    ]);
    expect(training.listMetrics(run.id).map((point) => point.name)).toEqual(['loss', 'loss', 'lr']);
    expect(() =>
      training.appendMetrics([{ runId: run.id, name: 'loss', step: 2, value: Number.NaN }]),
    ).toThrow(expect.objectContaining({ field: 'points[0].value' }));
    expect(training.listMetrics(run.id, 'loss')).toHaveLength(2);

    const tuned = test.store.models.create({
      name: 'nano-sft',
      ref: { kind: 'nano', path: '/tmp/nano-sft' },
      baseModelId: 'base',
      method: 'sft',
      recipe: 'sft-teacher',
    });
    for (const step of [10, 20]) {
      training.recordCheckpoint({
        modelId: tuned.id,
        trainingRunId: run.id,
        step,
        path: `/tmp/ckpt-${step}`,
        sha256: 'ab'.repeat(32),
        bytes: 100,
      });
    }
    expect(training.latestCheckpoint(run.id)).toMatchObject({ step: 20, path: '/tmp/ckpt-20' });
    expect(training.listCheckpoints({ modelId: tuned.id }).map((checkpoint) => checkpoint.step)).toEqual([
      10, 20,
    ]);
    expect(() =>
      training.recordCheckpoint({ modelId: tuned.id, step: 1, path: '/x', sha256: 'nothex', bytes: 1 }),
    ).toThrow(expect.objectContaining({ field: 'sha256' }));

    const done = training.setStatus(run.id, 'completed', { outputModelId: tuned.id });
    expect(done).toMatchObject({ status: 'completed', outputModelId: tuned.id });
    expect(training.listRuns({ baseModelId: 'base' }).map((item) => item.id)).toEqual([run.id]);
  });

  it('refuses an invalid config naming the field', () => {
    let error: unknown;
    try {
      test.store.training.createRun({ baseModelId: 'base', config: { ...config, learningRate: -1 } });
    } catch (caught) {
      error = caught;
    }
    expect(XferError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ field: 'config.learningRate' });
  });
});
