import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, tableNames } from '@xfer/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runXfer } from '../../test/run-xfer.js';

const xfer = runXfer;

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'xfer-cli-db-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

describe('xfer db', () => {
  it('migrate creates the store, and a second migrate applies nothing', async () => {
    const path = join(directory, 'lab.db');
    const first = await xfer(['db', 'migrate', '--db', path]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(`^migrated path=${path} applied=(\\d+) current=\\1 available=\\1\\n$`),
    );
    expect((await xfer(['db', 'migrate', '--db', path])).stdout).toMatch(/ applied=0 /);
  });

  it('info prints counts per table and the file size; $XFER_DB is the default path', async () => {
    const path = join(directory, 'env.db');
    const store = openStore(path);
    store.experiments.create({ name: 'e1' });
    store.experiments.create({ name: 'e2' });
    store.models.create({ name: 'nano-base', ref: { kind: 'nano', name: 'nano-base' }, method: 'base' });
    store.close();
    const result = await xfer(['db', 'info'], { XFER_DB: path });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`path=${path}\n`);
    expect(result.stdout).toMatch(/^experiments\s+2$/m);
    expect(result.stdout).toMatch(/^models\s+1$/m);
    expect(result.stdout).toMatch(/^samples\s+0$/m);
    const bytes = Number(/^bytes=(\d+)$/m.exec(result.stdout)?.[1]);
    expect(bytes).toBeGreaterThanOrEqual(statSync(path).size);
    expect(result.stdout.trim().split('\n').at(-1)).toBe(`tables=${tableNames.length} rows=3 bytes=${bytes}`);
  });

  it('info on a missing store fails with DB_OPEN_FAILED and creates nothing', async () => {
    const path = join(directory, 'absent.db');
    const result = await xfer(['db', 'info', '--db', path]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/DB_OPEN_FAILED|no such file/);
    expect(() => statSync(path)).toThrow();
  });
});
