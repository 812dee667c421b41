import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureRuns, makeSample } from '../test/fixtures/samples.js';
import { defaultStorePath, openStore, tableNames } from './index.js';
import { createTestStore, type TestStore } from './testing.js';

let test: TestStore;
beforeEach(() => {
  test = createTestStore();
});
afterEach(() => test.cleanup());

describe('openStore', () => {
  it('opens in WAL mode with foreign keys on, a busy timeout and synchronous=NORMAL', () => {
    const { sqlite } = test.store;
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(30_000);
    expect(sqlite.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('info() counts rows per table and sizes the files', () => {
    ensureRuns(test.store, ['run-1']);
    test.store.samples.insertSamples(['k-1', 'k-2'].map((key) => makeSample(key, 'run-1')));
    const info = test.store.info();
    expect(Object.keys(info.tables)).toEqual([...tableNames]);
    expect(info.tables).toMatchObject({
      models: 1,
      eval_runs: 1,
      samples: 2,
      verdicts: 2,
      run_samples: 0,
      metrics: 0,
    });
    expect(info.bytes).toBeGreaterThan(4096);
    expect(info.migrations.current).toBe(info.migrations.available);
  });

  it('reopens a closed store with its data (migrate: false leaves it untouched)', () => {
    ensureRuns(test.store, ['run-1']);
    test.store.close();
    const again = openStore(test.path, { migrate: false, mustExist: true });
    try {
      expect(again.migrations.applied).toBe(0);
      expect(again.evalRuns.require('run-1').modelId).toBe('model-nano');
    } finally {
      again.close();
    }
  });

  it('defaults the path to $XFER_DB, else ./xfer.db', () => {
    expect(defaultStorePath({ XFER_DB: '/labs/a.db' })).toBe('/labs/a.db');
    expect(defaultStorePath({ XFER_DB: '  ' })).toBe('xfer.db');
    expect(defaultStorePath({})).toBe('xfer.db');
  });

  it('transaction() commits all of its writes or none of them', () => {
    const { store } = test;
    expect(() =>
      store.transaction(() => {
        store.experiments.create({ name: 'kept-only-if-all-succeed' });
        store.models.create({
          name: 'orphan',
          ref: { kind: 'nano', name: 'x' },
          baseModelId: 'ghost',
          method: 'sft',
        });
      }),
    ).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(store.experiments.list()).toEqual([]);
    const created = store.transaction(() => store.experiments.create({ name: 'e1' }));
    expect(store.experiments.require(created.id).name).toBe('e1');
  });
});
