import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XferError } from '@xfer/core';
import type Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';

/**
 * The committed drizzle-kit migrations of this package. `src/` and `dist/` both sit one level below the
 * package root, so `../drizzle` resolves from sources and from the tsup build alike.
 */
export const defaultMigrationsFolder: string = fileURLToPath(new URL('../drizzle', import.meta.url));

/** The bookkeeping table drizzle-kit and drizzle's migrator use; we stay compatible with both. */
const migrationsTable = '__drizzle_migrations';

/** Options of {@link applyMigrations}. */
export interface ApplyMigrationsOptions {
  /** Folder with `meta/_journal.json` and the `.sql` files; defaults to the package's own `drizzle/`. */
  migrationsFolder?: string;
  /** Apply only the first `count` migrations of the journal (tests of upgrades from an older version). */
  count?: number;
}

/** What {@link applyMigrations} did. */
export interface MigrationReport {
  /** Migrations applied by this call. */
  applied: number;
  /** Migrations recorded in the database after this call. */
  current: number;
  /** Migrations in the folder. */
  available: number;
}

interface Migration {
  sql: string[];
  folderMillis: number;
  hash: string;
}

function fail(message: string, cause?: unknown, data: Record<string, unknown> = {}): never {
  throw new XferError({ code: 'DB_MIGRATION_FAILED', message, cause, data });
}

function readMigrations(folder: string): Migration[] {
  if (!existsSync(`${folder}/meta/_journal.json`))
    fail(`no migrations journal at ${folder}/meta/_journal.json`);
  try {
    return readMigrationFiles({ migrationsFolder: folder });
  } catch (cause) {
    return fail(`cannot read migrations in ${folder}: ${(cause as Error).message}`, cause);
  }
}

function appliedMillis(sqlite: Database.Database): number[] {
  const exists = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
    .get(migrationsTable);
  if (!exists) return [];
  return (
    sqlite.prepare(`SELECT created_at FROM "${migrationsTable}" ORDER BY created_at`).all() as {
      created_at: number | string;
    }[]
  ).map((row) => Number(row.created_at));
}

/**
 * Bring a database up to date with the committed migrations, safely when several processes open the same
 * fresh file at once: pending migrations are found and applied under one `BEGIN IMMEDIATE` write lock, so
 * exactly one process applies each. Foreign keys are off while migrating (SQLite's recipe for table
 * rebuilds) and `foreign_key_check` must pass before the commit. A database that has migrations this code
 * does not know (written by a newer xfer) is refused rather than silently used.
 *
 * @throws XferError `DB_MIGRATION_FAILED` naming the migration that failed; nothing of it is committed.
 */
export function applyMigrations(
  sqlite: Database.Database,
  options: ApplyMigrationsOptions = {},
): MigrationReport {
  const folder = options.migrationsFolder ?? defaultMigrationsFolder;
  const all = readMigrations(folder);
  const wanted = options.count === undefined ? all : all.slice(0, options.count);
  const known = new Set(all.map((migration) => migration.folderMillis));

  const pendingIn = (applied: number[]): Migration[] => {
    const unknown = applied.filter((millis) => !known.has(millis));
    if (unknown.length > 0) {
      fail(
        `the database has ${unknown.length} migration(s) this version of xfer does not know (created at ${unknown.join(', ')}); upgrade xfer`,
        undefined,
        { unknown },
      );
    }
    const last = applied.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...applied);
    return wanted.filter((migration) => migration.folderMillis > last);
  };

  // Fast path without a write lock: most opens find nothing to do.
  const before = appliedMillis(sqlite);
  if (pendingIn(before).length === 0) return { applied: 0, current: before.length, available: all.length };

  const foreignKeys = sqlite.pragma('foreign_keys', { simple: true }) as number;
  sqlite.pragma('foreign_keys = OFF');
  let current = 0;
  let tag = '';
  try {
    const migrate = sqlite.transaction(() => {
      sqlite.exec(
        `CREATE TABLE IF NOT EXISTS "${migrationsTable}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
      );
      const applied = appliedMillis(sqlite);
      const pending = pendingIn(applied);
      const record = sqlite.prepare(`INSERT INTO "${migrationsTable}" ("hash", "created_at") VALUES (?, ?)`);
      for (const migration of pending) {
        tag = `#${all.indexOf(migration)} (when ${migration.folderMillis})`;
        for (const statement of migration.sql) {
          if (statement.trim() !== '') sqlite.exec(statement);
        }
        record.run(migration.hash, migration.folderMillis);
      }
      const violations = sqlite.pragma('foreign_key_check') as unknown[];
      if (violations.length > 0)
        fail(`foreign key check failed after migrating: ${JSON.stringify(violations[0])}`);
      current = applied.length + pending.length;
      return pending.length;
    });
    const applied = migrate.immediate();
    return { applied, current, available: all.length };
  } catch (cause) {
    if (XferError.isInstance(cause)) throw cause;
    return fail(`migration ${tag} failed: ${(cause as Error).message}`, cause, { migration: tag });
  } finally {
    sqlite.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}

/** How many migrations the database has applied and how many the folder holds. */
export function migrationStatus(
  sqlite: Database.Database,
  migrationsFolder: string = defaultMigrationsFolder,
): { current: number; available: number } {
  return { current: appliedMillis(sqlite).length, available: readMigrations(migrationsFolder).length };
}
