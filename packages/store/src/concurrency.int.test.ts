import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashOf } from '../test/fixtures/samples.js';
import { startFixture } from '../test/fixtures/spawn.js';
import { openStore } from './index.js';

let directory: string | undefined;
afterEach(() => directory && rmSync(directory, { recursive: true, force: true }));

describe('two processes writing one store at the same time', () => {
  it('loses and duplicates nothing (10,000 samples each, 2,000 of them identical requests)', async () => {
    // A fresh file: both processes also race to create and migrate it.
    directory = mkdtempSync(join(tmpdir(), 'xfer-concurrency-'));
    const path = join(directory, 'xfer.db');
    const shared = Array.from({ length: 2_000 }, (_, index) => `shared-${index}`);
    const keysA = [...Array.from({ length: 8_000 }, (_, index) => `a-${index}`), ...shared];
    const keysB = [...shared.slice().reverse(), ...Array.from({ length: 8_000 }, (_, index) => `b-${index}`)];
    const writers = [
      startFixture('sample-writer', { mode: 'concurrent', path, runId: 'run-a', keys: keysA, batch: 250 }),
      startFixture('sample-writer', { mode: 'concurrent', path, runId: 'run-b', keys: keysB, batch: 250 }),
    ];
    await Promise.all(writers.map((writer) => writer.waitForLine(/^ready$/)));
    for (const writer of writers) writer.child.stdin.write('go\n');
    const exits = await Promise.all(writers.map((writer) => writer.exited));
    for (const exit of exits) expect(exit, exit.stderr).toMatchObject({ code: 0 });
    const totals = writers.map(
      (writer) => JSON.parse(writer.lines.at(-1)!) as { inserted: number; existing: number },
    );

    const store = openStore(path);
    try {
      const distinct = 18_000;
      // Each shared request was stored by exactly one writer; the other saw it as existing.
      expect(totals[0]!.inserted + totals[1]!.inserted).toBe(distinct);
      expect(totals[0]!.existing + totals[1]!.existing).toBe(2_000);
      expect(store.sqlite.prepare('SELECT count(*) FROM samples').pluck().get()).toBe(distinct);
      expect(store.sqlite.prepare('SELECT count(DISTINCT request_hash) FROM samples').pluck().get()).toBe(
        distinct,
      );
      expect(store.sqlite.prepare('SELECT count(*) FROM verdicts').pluck().get()).toBe(distinct);

      const runA = store.samples.listRunSamples('run-a');
      const runB = store.samples.listRunSamples('run-b');
      expect(runA).toHaveLength(10_000);
      expect(runB).toHaveLength(10_000);
      expect(new Set(runA.map((sample) => sample.requestHash))).toEqual(new Set(keysA.map(hashOf)));
      expect(new Set(runB.map((sample) => sample.requestHash))).toEqual(new Set(keysB.map(hashOf)));
      expect(runA.every((sample) => sample.verdicts.length === 1)).toBe(true);

      // Events from both writers into one run are numbered 1..n without gaps or repeats.
      const events = store.events.list('events');
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 80 }, (_, index) => index + 1));
      const writersInOrder = events.map((event) => event.payload.writer);
      expect(new Set(writersInOrder)).toEqual(new Set(['run-a', 'run-b']));
      // The writes really interleaved (not one process after the other).
      const switches = writersInOrder.filter(
        (writer, index) => index > 0 && writer !== writersInOrder[index - 1],
      );
      expect(switches.length).toBeGreaterThan(1);
      expect(store.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(
        store.migrations.available,
      );
      expect(store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      store.close();
    }
  });
});
