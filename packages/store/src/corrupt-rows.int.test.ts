import { CorruptRowError, type TrainingConfigInput } from '@xfer/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeSample } from '../test/fixtures/samples.js';
import type { Store } from './index.js';
import { createTestStore, type TestStore } from './testing.js';

const trainingConfig: TrainingConfigInput = {
  recipe: 'grpo',
  preset: 'nano',
  seed: 1,
  levers: {
    sampler: 'policy',
    weights: 'grpo',
    negatives: true,
    loss: { clip: { low: 0.2, high: 0.28 }, klBeta: 0 },
  },
  optimizer: { kind: 'adamw' },
  learningRate: 1e-4,
  schedule: { kind: 'constant' },
  gradClip: 1,
  steps: 10,
  batchSize: 4,
  microBatchSize: 2,
  samplesPerPrompt: 4,
  maxSequenceLength: 256,
  checkpointEvery: 5,
};

let test: TestStore;
let store: Store;
/** A second, independent connection to the same file: how a row gets damaged outside the repositories. */
let raw: Database.Database;

beforeEach(() => {
  test = createTestStore();
  store = test.store;
  raw = new Database(test.path);
  const model = store.models.create({
    id: 'm1',
    name: 'nano-base',
    ref: { kind: 'nano', name: 'nano-base' },
    method: 'base',
  });
  store.evalRuns.create({
    id: 'r1',
    modelId: model.id,
    settings: { benchmarks: ['nano-arith'] },
    modelHash: 'm',
    chatTemplateHash: 't',
    samplingHash: 's',
    scorerVersions: { exact: '1' },
  });
  store.samples.insertSamples(['k-1', 'k-2', 'k-3'].map((key) => makeSample(key, 'r1')));
  store.events.append('r1', 'progress', { done: 1 });
});
afterEach(() => {
  raw.close();
  test.cleanup();
});

function corruption(action: () => unknown): CorruptRowError {
  try {
    action();
  } catch (error) {
    expect(CorruptRowError.isInstance(error), String(error)).toBe(true);
    return error as CorruptRowError;
  }
  throw new Error('expected a CorruptRowError, nothing was thrown');
}

describe('a corrupt row read through a repository', () => {
  it('an unknown enum value: names table, column and id', () => {
    const id = raw.prepare(`SELECT id FROM samples WHERE item_id = 'item-k-2'`).pluck().get() as number;
    raw.prepare(`UPDATE samples SET finish_reason = 'exploded' WHERE id = ?`).run(id);
    const error = corruption(() => store.samples.listRunSamples('r1'));
    expect(error).toMatchObject({
      code: 'DB_CORRUPT_ROW',
      table: 'samples',
      column: 'finish_reason',
      rowId: id,
    });
    expect(error.message).toContain('"exploded"');

    raw.prepare(`UPDATE models SET method = 'magic' WHERE id = 'm1'`).run();
    expect(corruption(() => store.models.require('m1'))).toMatchObject({
      table: 'models',
      column: 'method',
      rowId: 'm1',
    });
    raw.prepare(`UPDATE eval_runs SET status = 'zombie' WHERE id = 'r1'`).run();
    expect(corruption(() => store.evalRuns.list())).toMatchObject({
      table: 'eval_runs',
      column: 'status',
      rowId: 'r1',
    });
  });

  it('malformed JSON: names table, column and id', () => {
    const verdictId = raw.prepare('SELECT min(id) FROM verdicts').pluck().get() as number;
    raw.prepare(`UPDATE verdicts SET details_json = '{"key": ' WHERE id = ?`).run(verdictId);
    const error = corruption(() => store.samples.listRunSamples('r1'));
    expect(error).toMatchObject({ table: 'verdicts', column: 'details_json', rowId: verdictId });
    expect(error.message).toMatch(/malformed JSON/);
    const hash = makeSample('k-1', 'r1').requestHash;
    expect(corruption(() => store.samples.findSamplesByHashes([hash]))).toMatchObject({
      table: 'verdicts',
      rowId: verdictId,
    });
  });

  it('well-formed JSON of the wrong shape: names table, column and id', () => {
    raw.prepare(`UPDATE eval_runs SET settings_json = '{"benchmarks": []}' WHERE id = 'r1'`).run();
    const error = corruption(() => store.evalRuns.require('r1'));
    expect(error).toMatchObject({ table: 'eval_runs', column: 'settings_json', rowId: 'r1' });
    expect(error.message).toMatch(/benchmarks/);

    raw.prepare(`UPDATE run_events SET payload_json = '[1, 2]'`).run();
    expect(corruption(() => store.events.list('r1'))).toMatchObject({
      table: 'run_events',
      column: 'payload_json',
    });

    raw.prepare(`UPDATE models SET ref_json = '{"kind": "hf"}' WHERE id = 'm1'`).run();
    expect(corruption(() => store.models.get('m1'))).toMatchObject({
      table: 'models',
      column: 'ref_json',
      rowId: 'm1',
    });
  });

  it('a corrupt training config is reported, and the rest of the store keeps working', () => {
    const run = store.training.createRun({ id: 't1', baseModelId: 'm1', config: trainingConfig });
    expect(run.config.recipe).toBe('grpo');
    raw
      .prepare(
        `UPDATE training_runs SET config_json = json_set(config_json, '$.learningRate', -1) WHERE id = 't1'`,
      )
      .run();
    expect(corruption(() => store.training.requireRun('t1'))).toMatchObject({
      table: 'training_runs',
      column: 'config_json',
      rowId: 't1',
    });
    // Not a crash: other rows and tables still read and write.
    expect(store.samples.listRunSamples('r1')).toHaveLength(3);
    expect(store.events.append('r1', 'progress', { done: 2 }).seq).toBe(2);
  });
});
