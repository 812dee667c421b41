import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { hashOf, makeSample } from '../test/fixtures/samples.js';
import { startFixture } from '../test/fixtures/spawn.js';
import { openStore } from './index.js';
import { createTestStore, type TestStore } from './testing.js';

let test: TestStore | undefined;
afterEach(() => test?.cleanup());

describe('a writer killed with SIGKILL in the middle of a batch', () => {
  it('leaves a store that opens with every committed row intact, and the run continues', async () => {
    test = createTestStore();
    test.store.close();
    const keys = Array.from({ length: 6_000 }, (_, index) => `k-${index}`);
    const writer = startFixture('sample-writer', {
      mode: 'crash',
      path: test.path,
      runId: 'run-crash',
      keys,
      batch: 500,
      committedBatches: 3,
    });
    await writer.waitForLine(/^committed 1500$/);
    const walAfterCommits = statSync(`${test.path}-wal`).size;
    await writer.waitForLine(/^mid-batch$/);
    // The unfinished batch has spilled uncommitted pages into the WAL: the kill lands on a half-written log.
    expect(statSync(`${test.path}-wal`).size).toBeGreaterThan(walAfterCommits);
    writer.child.kill('SIGKILL');
    const exit = await writer.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(writer.lines).toContain('committed 1500');
    expect(writer.lines).not.toContain('finished-unexpectedly');

    const store = openStore(test.path);
    try {
      expect(store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(store.sqlite.pragma('foreign_key_check')).toEqual([]);
      // Exactly the three committed batches, none of the unfinished one.
      const stored = store.samples.listRunSamples('run-crash');
      expect(stored.map((sample) => sample.requestHash)).toEqual(keys.slice(0, 1_500).map(hashOf));
      const expected = makeSample('k-1499', 'run-crash');
      expect(stored.at(-1)).toMatchObject({
        prompt: expected.prompt,
        completion: expected.completion,
        verdicts: [{ grader: 'exact', correct: true, details: { key: 'k-1499' } }],
      });

      // The run continues: re-submitting everything stores only what is missing.
      const result = store.samples.insertSamples(keys.map((key) => makeSample(key, 'run-crash')));
      expect(result.existing).toHaveLength(1_500);
      expect(result.inserted).toHaveLength(4_500);
      expect(store.samples.countRunSamples('run-crash')).toBe(6_000);
      expect(store.evalRuns.setStatus('run-crash', 'completed').status).toBe('completed');
    } finally {
      store.close();
    }
  });
});
