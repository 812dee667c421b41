/**
 * Test helpers: a real, migrated SQLite store in a fresh temporary directory.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OpenStoreOptions, openStore, type Store } from './open-store.js';

/** A store on a temporary file and how to get rid of it. */
export interface TestStore {
  store: Store;
  /** The database file path (to open it again, e.g. from a child process). */
  path: string;
  /** The temporary directory holding it. */
  directory: string;
  /** Close the store (if still open) and delete the directory. */
  cleanup(): void;
}

/** Create a real SQLite store file in a new temp directory, migrated. Call `cleanup()` when done. */
export function createTestStore(options: OpenStoreOptions = {}): TestStore {
  const directory = mkdtempSync(join(tmpdir(), 'xfer-store-'));
  const path = join(directory, 'xfer.db');
  const store = openStore(path, options);
  return {
    store,
    path,
    directory,
    cleanup() {
      if (store.sqlite.open) store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
