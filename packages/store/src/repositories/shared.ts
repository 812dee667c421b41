import { randomUUID } from 'node:crypto';
import { XferError } from '@xfer/core';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from '../schema.js';

/** The drizzle database of a store, typed with its schema. */
export type StoreDatabase = BetterSQLite3Database<typeof schema>;

/** A new opaque id (`<prefix>_<uuid>`) for a row the caller did not name. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID()}`;
}

/** A `NOT_FOUND` error for a missing row. */
export function notFound(table: string, id: string): XferError {
  return new XferError({ code: 'NOT_FOUND', message: `no ${table} row with id ${id}`, data: { table, id } });
}

/** Map a SQLite constraint failure to `CONFLICT` (duplicate name, missing parent row), else `DB_WRITE_FAILED`. */
export function writeError(table: string, cause: unknown): XferError {
  if (XferError.isInstance(cause)) return cause;
  const code = (cause as { code?: string }).code ?? '';
  const message = (cause as Error).message ?? String(cause);
  return new XferError({
    code: code.startsWith('SQLITE_CONSTRAINT') ? 'CONFLICT' : 'DB_WRITE_FAILED',
    message: `${table}: ${message}`,
    cause,
    data: { table, sqliteCode: code },
  });
}

/** Run a write, mapping driver errors through {@link writeError}. */
export function write<T>(table: string, action: () => T): T {
  try {
    return action();
  } catch (cause) {
    throw writeError(table, cause);
  }
}

/** Status transitions stamp their times: `running` sets `startedAt`, a final status sets `finishedAt`. */
export function statusTimes(status: string, now: number): { startedAt?: number; finishedAt?: number } {
  if (status === 'running') return { startedAt: now };
  if (status === 'completed' || status === 'failed' || status === 'cancelled') return { finishedAt: now };
  return {};
}
