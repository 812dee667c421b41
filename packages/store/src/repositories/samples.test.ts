import { ValidationError } from '@xfer/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureRuns, hashOf, makeSample } from '../../test/fixtures/samples.js';
import { createTestStore, type TestStore } from '../testing.js';

let test: TestStore;
beforeEach(() => {
  test = createTestStore();
  ensureRuns(test.store, ['run-1', 'run-2']);
});
afterEach(() => test.cleanup());

describe('SampleRepository', () => {
  it('stores a batch and reads it back with verdicts, in insertion order', () => {
    const batch = ['k-3', 'k-1', 'k-2'].map((key) => makeSample(key, 'run-1'));
    const result = test.store.samples.insertSamples(batch);
    expect(result).toEqual({ inserted: batch.map((sample) => sample.requestHash), existing: [] });
    const stored = test.store.samples.listRunSamples('run-1');
    expect(stored.map((sample) => sample.itemId)).toEqual(['item-k-3', 'item-k-1', 'item-k-2']);
    const { verdicts, createdAt, ...input } = batch[0]!;
    expect(stored[0]).toMatchObject(input);
    expect(stored[0]!.verdicts).toEqual([{ ...verdicts![0], details: { key: 'k-3' } }]);
    expect(typeof stored[0]!.createdAt).toBe('number');
  });

  it('is idempotent on the request hash and reports which samples were new', () => {
    test.store.samples.insertSamples([makeSample('k-1', 'run-1')]);
    const again = test.store.samples.insertSamples([makeSample('k-1', 'run-1'), makeSample('k-2', 'run-1')]);
    expect(again).toEqual({ inserted: [hashOf('k-2')], existing: [hashOf('k-1')] });
    expect(test.store.samples.countRunSamples('run-1')).toBe(2);
    expect(test.store.sqlite.prepare('SELECT count(*) FROM verdicts').pluck().get()).toBe(2);
  });

  it('links an identical request to a second run instead of storing it twice', () => {
    test.store.samples.insertSamples([makeSample('k-1', 'run-1')]);
    const second = test.store.samples.insertSamples([makeSample('k-1', 'run-2')]);
    expect(second.existing).toEqual([hashOf('k-1')]);
    const [reused] = test.store.samples.listRunSamples('run-2');
    expect(reused).toMatchObject({ requestHash: hashOf('k-1'), runId: 'run-1' });
    expect(test.store.samples.attachSamples('run-2', [hashOf('k-1'), hashOf('missing')])).toBe(1);
    expect(test.store.samples.countRunSamples('run-2')).toBe(1);
  });

  it('finds stored samples by hash and leaves unknown hashes out', () => {
    test.store.samples.insertSamples(['k-1', 'k-2'].map((key) => makeSample(key, 'run-1')));
    const found = test.store.samples.findSamplesByHashes([hashOf('k-2'), hashOf('k-9')]);
    expect([...found.keys()]).toEqual([hashOf('k-2')]);
    expect(found.get(hashOf('k-2'))!.verdicts).toHaveLength(1);
    expect(test.store.samples.findSamplesByHashes([]).size).toBe(0);
  });

  it('adds verdicts of a new grader version later, keeping the first of duplicates', () => {
    test.store.samples.insertSamples([makeSample('k-1', 'run-1')]);
    const verdict = { grader: 'exact', graderVersion: '2', extracted: '3', correct: false, score: 0 };
    expect(test.store.samples.recordVerdicts([{ requestHash: hashOf('k-1'), verdict }])).toBe(1);
    expect(
      test.store.samples.recordVerdicts([{ requestHash: hashOf('k-1'), verdict: { ...verdict, score: 1 } }]),
    ).toBe(0);
    expect(test.store.samples.recordVerdicts([{ requestHash: hashOf('nope'), verdict }])).toBe(0);
    const [sample] = test.store.samples.listRunSamples('run-1');
    expect(sample!.verdicts.map((item) => [item.graderVersion, item.score])).toEqual([
      ['1', 1],
      ['2', 0],
    ]);
  });

  it('rejects a malformed batch whole, naming the field, and stores nothing of it', () => {
    const bad = { ...makeSample('k-2', 'run-1'), finishReason: 'exploded' as never };
    expect(() => test.store.samples.insertSamples([makeSample('k-1', 'run-1'), bad])).toThrow(
      expect.objectContaining({ field: 'samples[1].finishReason' }),
    );
    const badHash = { ...makeSample('k-3', 'run-1'), requestHash: 'abc' };
    let error: unknown;
    try {
      test.store.samples.insertSamples([badHash]);
    } catch (caught) {
      error = caught;
    }
    expect(ValidationError.isInstance(error)).toBe(true);
    const badScore = makeSample('k-4', 'run-1');
    badScore.verdicts = [{ grader: 'exact', graderVersion: '1', extracted: null, correct: true, score: 2 }];
    expect(() => test.store.samples.insertSamples([badScore])).toThrow(/samples\[0\]\.verdicts\[0\]\.score/);
    expect(test.store.samples.countRunSamples('run-1')).toBe(0);
  });

  it('refuses samples of a run that does not exist (foreign key)', () => {
    expect(() => test.store.samples.insertSamples([makeSample('k-1', 'no-such-run')])).toThrow(
      expect.objectContaining({ code: 'CONFLICT', message: expect.stringMatching(/FOREIGN KEY/) }),
    );
  });
});
