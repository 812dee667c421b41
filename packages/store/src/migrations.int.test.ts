import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { XferError } from '@xfer/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, defaultMigrationsFolder, openStore, tableNames } from './index.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'xfer-migrations-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const journal = () =>
  JSON.parse(readFileSync(join(defaultMigrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: { idx: number; when: number; tag: string; breakpoints: boolean; version: string }[];
  };

function expectCode(action: () => unknown, code: string): XferError {
  try {
    action();
  } catch (error) {
    expect(XferError.isInstance(error), String(error)).toBe(true);
    expect((error as XferError).code).toBe(code);
    return error as XferError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** Rows written with the SQL of migration 0 (this SQL must keep working for as long as 0000 exists). */
function insertVersionZeroRows(sqlite: Database.Database): void {
  sqlite.exec(`
    INSERT INTO models (id, name, ref_json, method, created_at) VALUES ('m0', 'nano-base', '{"kind":"nano","name":"nano-base"}', 'base', 1);
    INSERT INTO eval_runs (id, model_id, status, settings_json, model_hash, chat_template_hash, sampling_hash, created_at)
      VALUES ('r0', 'm0', 'completed', '{"benchmarks":["nano-arith"]}', 'm', 't', 's', 1);
    INSERT INTO samples (id, request_hash, run_id, benchmark, item_id, sample_index, seed, prompt, completion, finish_reason,
      prompt_tokens, completion_tokens, latency_ms, created_at)
      VALUES (1, '${'a'.repeat(64)}', 'r0', 'nano-arith', 'i1', 0, 7, 'What is 2+2?', '4', 'stop', 5, 1, 3.5, 1);
    INSERT INTO run_samples (run_id, sample_id) VALUES ('r0', 1);
    INSERT INTO verdicts (sample_id, grader, grader_version, extracted, correct, score, details_json, created_at)
      VALUES (1, 'exact', '1', '4', 1, 1.0, '{}', 1);
  `);
}

describe('migrations', () => {
  it('apply from an empty file, creating every table, and a second open applies nothing', () => {
    const path = join(directory, 'empty.db');
    const store = openStore(path);
    expect(store.migrations).toEqual({
      applied: journal().entries.length,
      current: journal().entries.length,
      available: journal().entries.length,
    });
    const present = store.sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    expect(present).toEqual(expect.arrayContaining([...tableNames]));
    store.close();
    const again = openStore(path);
    expect(again.migrations.applied).toBe(0);
    again.close();
  });

  it('upgrade a database from every earlier version, keeping its data', () => {
    const count = journal().entries.length;
    for (let version = 1; version <= count; version++) {
      const path = join(directory, `v${version}.db`);
      const sqlite = new Database(path);
      expect(applyMigrations(sqlite, { count: version })).toMatchObject({
        applied: version,
        current: version,
      });
      insertVersionZeroRows(sqlite);
      sqlite.close();

      const store = openStore(path);
      expect(store.migrations).toMatchObject({ applied: count - version, current: count });
      const samples = store.samples.listRunSamples('r0');
      expect(samples).toHaveLength(1);
      expect(store.samples.countRunSamples('r0')).toBe(1);
      const [sample] = samples;
      expect(sample).toMatchObject({
        prompt: 'What is 2+2?',
        finishReason: 'stop',
        verdicts: [{ grader: 'exact', correct: true }],
      });
      expect(store.evalRuns.require('r0').settings.benchmarks).toEqual(['nano-arith']);
      expect(store.models.lineage('m0').map((model) => model.name)).toEqual(['nano-base']);
      store.close();
    }
  });

  it('refuse a database written by a newer xfer (unknown migration)', () => {
    const path = join(directory, 'newer.db');
    openStore(path).close();
    const sqlite = new Database(path);
    sqlite
      .prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)')
      .run('f'.repeat(64), 99_999_999_999_999);
    sqlite.close();
    const error = expectCode(() => openStore(path), 'DB_MIGRATION_FAILED');
    expect(error.message).toMatch(/does not know/);
  });

  it('roll back a failing migration entirely and report which one failed', () => {
    const folder = join(directory, 'drizzle');
    cpSync(defaultMigrationsFolder, folder, { recursive: true });
    const path = join(directory, 'broken.db');
    openStore(path, { migrationsFolder: folder }).close();

    const meta = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8'));
    const last = meta.entries.at(-1);
    meta.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1, tag: '9999_broken' });
    writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(meta));
    writeFileSync(
      join(folder, '9999_broken.sql'),
      'CREATE TABLE `half_done` (`id` integer);\n--> statement-breakpoint\nCREATE TABLE `samples` (`id` integer);',
    );
    const error = expectCode(() => openStore(path, { migrationsFolder: folder }), 'DB_MIGRATION_FAILED');
    expect(error.message).toMatch(/#\d+ .*already exists/);

    const sqlite = new Database(path);
    expect(sqlite.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'half_done'`).pluck().get()).toBe(
      0,
    );
    expect(sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(
      meta.entries.length - 1,
    );
    sqlite.close();
  });

  it('fail with DB_MIGRATION_FAILED when the migrations folder is missing', () => {
    expectCode(
      () => openStore(join(directory, 'x.db'), { migrationsFolder: join(directory, 'nowhere') }),
      'DB_MIGRATION_FAILED',
    );
  });

  it('fail with DB_OPEN_FAILED for a missing directory, a non-database file, or a required file that is absent', () => {
    expectCode(() => openStore(join(directory, 'no/such/dir/x.db')), 'DB_OPEN_FAILED');
    const garbage = join(directory, 'garbage.db');
    writeFileSync(garbage, 'this is not a sqlite database '.repeat(200));
    expectCode(() => openStore(garbage), 'DB_OPEN_FAILED');
    expectCode(() => openStore(join(directory, 'absent.db'), { mustExist: true }), 'DB_OPEN_FAILED');
  });

  it('match the drizzle schema: drizzle-kit generate finds nothing new to migrate', () => {
    const out = join(directory, 'drizzle');
    cpSync(defaultMigrationsFolder, out, { recursive: true });
    const before = readdirSync(out).sort();
    const packageRoot = dirname(defaultMigrationsFolder);
    const config = join(directory, 'drizzle.config.ts');
    writeFileSync(
      config,
      `export default ${JSON.stringify({ dialect: 'sqlite', schema: relative(directory, join(packageRoot, 'src/schema.ts')), out: 'drizzle' })};\n`,
    );
    const bin = join(packageRoot, 'node_modules/drizzle-kit/bin.cjs');
    const output = execFileSync(process.execPath, [bin, 'generate', `--config=${config}`], {
      cwd: directory,
      encoding: 'utf8',
    });
    expect(output).toMatch(/nothing to migrate/i);
    expect(readdirSync(out).sort()).toEqual(before);
  });
});
