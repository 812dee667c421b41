import { existsSync, statSync } from 'node:fs';
import { XferError } from '@xfer/core';
import Database from 'better-sqlite3';
import { getTableName } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import {
  applyMigrations,
  defaultMigrationsFolder,
  type MigrationReport,
  migrationStatus,
} from './migrate.js';
import { AnalysisRepository } from './repositories/analyses.js';
import { ArtifactRepository } from './repositories/artifacts.js';
import { BenchmarkRepository } from './repositories/benchmarks.js';
import { DatasetRepository } from './repositories/datasets.js';
import { EvalRunRepository } from './repositories/eval-runs.js';
import { EventRepository } from './repositories/events.js';
import { ExperimentRepository } from './repositories/experiments.js';
import { ModelRepository } from './repositories/models.js';
import { SampleRepository } from './repositories/samples.js';
import type { StoreDatabase } from './repositories/shared.js';
import { TrainingRepository } from './repositories/training.js';
import * as schema from './schema.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** How long a writer waits for another process's lock before `SQLITE_BUSY` (default 30 s). */
  busyTimeoutMs?: number;
  /** Page cache per connection in MiB (default 64): bulk sample inserts touch a large random-order hash index. */
  cacheSizeMiB?: number;
  /** Apply pending migrations on open (default true). With false, an outdated store is opened as is. */
  migrate?: boolean;
  /** Refuse to create a new file (default false). */
  mustExist?: boolean;
  /** Override the migrations folder (tests). */
  migrationsFolder?: string;
}

/** Row counts per table and the size of the database files. */
export interface StoreInfo {
  path: string;
  /** Bytes of the database file plus its `-wal` and `-shm` files. */
  bytes: number;
  tables: Record<string, number>;
  migrations: { current: number; available: number };
}

/** One open lab database: the drizzle handle, the raw connection, and a repository per aggregate. */
export interface Store {
  readonly path: string;
  /** The raw better-sqlite3 connection (for bespoke queries; prefer the repositories). */
  readonly sqlite: Database.Database;
  /** The drizzle database over {@link schema}. */
  readonly db: StoreDatabase;
  /** What migrating on open did (`applied: 0` when it was up to date or `migrate: false`). */
  readonly migrations: MigrationReport;
  readonly experiments: ExperimentRepository;
  readonly models: ModelRepository;
  readonly benchmarks: BenchmarkRepository;
  readonly evalRuns: EvalRunRepository;
  readonly samples: SampleRepository;
  readonly events: EventRepository;
  readonly training: TrainingRepository;
  readonly datasets: DatasetRepository;
  readonly analyses: AnalysisRepository;
  readonly artifacts: ArtifactRepository;
  /**
   * Run `action` in one `BEGIN IMMEDIATE` transaction (all of it or nothing), e.g. to create a model and
   * its run together. Synchronous on purpose: never hold a transaction across an `await`. Repository calls
   * inside it join it.
   */
  transaction<T>(action: () => T): T;
  /** Counts per table and file size. */
  info(): StoreInfo;
  /** Close the connection (checkpointing the WAL when this is the last connection). */
  close(): void;
}

/** SQL table names in schema order (what `info()` counts). */
export const tableNames: readonly string[] = Object.values(schema.tables).map((table) => getTableName(table));

/**
 * Open (or create) the store at `path`: WAL journal, `synchronous=NORMAL` (a crash loses at most the last
 * commits, never consistency), a busy timeout so that concurrent writers wait rather than fail, foreign
 * keys on, a 64 MiB page cache, and migrations applied from the package's own `drizzle/` folder.
 *
 * @throws XferError `DB_OPEN_FAILED` (missing directory, not a database, locked) or `DB_MIGRATION_FAILED`.
 */
export function openStore(path: string, options: OpenStoreOptions = {}): Store {
  let sqlite: Database.Database;
  try {
    if (options.mustExist && path !== ':memory:' && !existsSync(path)) {
      throw new Error('no such file (run `xfer db migrate` to create it)');
    }
    sqlite = new Database(path, { fileMustExist: options.mustExist ?? false });
  } catch (cause) {
    throw new XferError({
      code: 'DB_OPEN_FAILED',
      message: `cannot open store ${path}: ${(cause as Error).message}`,
      cause,
      data: { path },
    });
  }
  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 30_000))}`);
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (path !== ':memory:' && mode !== 'wal')
      throw new Error(`could not switch to WAL (journal_mode is ${mode})`);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`cache_size = ${-Math.max(1, Math.floor((options.cacheSizeMiB ?? 64) * 1024))}`);
  } catch (cause) {
    sqlite.close();
    throw new XferError({
      code: 'DB_OPEN_FAILED',
      message: `cannot open store ${path}: ${(cause as Error).message}`,
      cause,
      data: { path },
    });
  }
  const migrationsFolder = options.migrationsFolder ?? defaultMigrationsFolder;
  let migrations: MigrationReport;
  try {
    migrations =
      options.migrate === false
        ? { applied: 0, ...migrationStatus(sqlite, migrationsFolder) }
        : applyMigrations(sqlite, { migrationsFolder });
  } catch (cause) {
    sqlite.close();
    throw cause;
  }
  return createStore(path, sqlite, migrations, migrationsFolder);
}

function createStore(
  path: string,
  sqlite: Database.Database,
  migrations: MigrationReport,
  migrationsFolder: string,
): Store {
  const db = drizzle(sqlite, { schema });
  return {
    path,
    sqlite,
    db,
    migrations,
    experiments: new ExperimentRepository(db),
    models: new ModelRepository(db),
    benchmarks: new BenchmarkRepository(db),
    evalRuns: new EvalRunRepository(db),
    samples: new SampleRepository(sqlite),
    events: new EventRepository(sqlite),
    training: new TrainingRepository(db, sqlite),
    datasets: new DatasetRepository(db, sqlite),
    analyses: new AnalysisRepository(db),
    artifacts: new ArtifactRepository(db),
    transaction: <T>(action: () => T): T => sqlite.transaction(action).immediate(),
    info: () => storeInfo(path, sqlite, migrationsFolder),
    close: () => sqlite.close(),
  };
}

function fileBytes(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

function storeInfo(path: string, sqlite: Database.Database, migrationsFolder: string): StoreInfo {
  const present = new Set(
    sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[],
  );
  const tables: Record<string, number> = {};
  for (const name of tableNames) {
    tables[name] = present.has(name)
      ? (sqlite.prepare(`SELECT count(*) FROM "${name}"`).pluck().get() as number)
      : 0;
  }
  const bytes =
    path === ':memory:' ? 0 : fileBytes(path) + fileBytes(`${path}-wal`) + fileBytes(`${path}-shm`);
  return { path, bytes, tables, migrations: migrationStatus(sqlite, migrationsFolder) };
}

/** The store path a command uses when given none: `$XFER_DB`, else `./xfer.db`. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.XFER_DB;
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : 'xfer.db';
}
