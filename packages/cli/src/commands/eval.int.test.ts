import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNanoModel, decodeTokens, encodeText, NanoEngine } from '@xfer/engine-nano';
import { tinyNanoConfig } from '@xfer/engine-nano/testing';
import { createApp, listen, type RunningServer } from '@xfer/server';
import { type FaultProxy, startFaultProxy } from '@xfer/server/testing';
import { openStore } from '@xfer/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'xfer-eval-cli-'));

function xfer(args: string[]): ChildProcess & {
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@xfer/source', 'packages/cli/src/bin.ts', ...args],
    {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return Object.assign(child, { done });
}

function storedSeeds(path: string): { seeds: Set<number>; hashes: string[] } {
  const store = openStore(path, { mustExist: true });
  try {
    const rows = store.sqlite.prepare('SELECT seed, request_hash FROM samples').all() as {
      seed: number;
      request_hash: string;
    }[];
    return {
      seeds: new Set(rows.map((row) => row.seed)),
      hashes: rows.map((row) => row.request_hash).sort(),
    };
  } finally {
    store.close();
  }
}

function sentSeeds(proxy: FaultProxy, from: number): number[] {
  return proxy.log
    .slice(from)
    .filter((entry) => entry.path.endsWith('/chat/completions'))
    .map((entry) => (JSON.parse(entry.body) as { seed: number }).seed);
}

// A real nano model behind the real endpoint, reached through a (slow, logging) proxy: the proxy's log is
// the ground truth of which requests each process sent.
let server: RunningServer;
let proxy: FaultProxy;
beforeAll(async () => {
  const engine = new NanoEngine(createNanoModel(tinyNanoConfig(), 3), { name: 'tiny' });
  server = await listen(
    createApp({ engines: { tiny: { engine, decode: decodeTokens, encode: encodeText } } }),
  );
  proxy = await startFaultProxy(server.url, (_, path) =>
    path.endsWith('/completions') ? { kind: 'delay', ms: 60 } : undefined,
  );
});
afterAll(async () => {
  await proxy.close();
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('xfer eval', () => {
  it('SIGKILL mid-run, rerun: no finished request is sent again and results equal an uninterrupted run', async () => {
    const args = (db: string) => [
      'eval',
      '--model',
      `${proxy.url}/v1#tiny`,
      '--benchmarks',
      'nano-arithmetic,nano-multistep',
      '--limit',
      '12',
      '--samples',
      '2',
      '--concurrency',
      '2',
      '--max-tokens',
      '16',
      '--db',
      db,
    ];
    const interrupted = join(directory, 'interrupted.db');
    const first = xfer(args(interrupted));
    let stored = 0;
    for (let waited = 0; waited < 60_000 && stored < 8; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      try {
        stored = storedSeeds(interrupted).seeds.size;
      } catch {
        stored = 0; // not created yet
      }
    }
    first.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const before = storedSeeds(interrupted);
    expect(before.seeds.size).toBeGreaterThanOrEqual(8);
    expect(before.seeds.size).toBeLessThan(48);

    const logFrom = proxy.log.length;
    const second = await xfer(args(interrupted)).done;
    expect(second.stderr).not.toContain('error');
    expect(second.code).toBe(0);
    const resentSeeds = sentSeeds(proxy, logFrom);
    expect(resentSeeds.filter((seed) => before.seeds.has(seed))).toEqual([]);
    const lastLine = second.stdout.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(
      new RegExp(
        `^run=eval-[0-9a-f]{16} total=48 sent=${48 - before.hashes.length} cached=${before.hashes.length} resumed=true$`,
      ),
    );

    const clean = join(directory, 'clean.db');
    const uninterrupted = await xfer(args(clean)).done;
    expect(uninterrupted.code).toBe(0);
    expect(storedSeeds(interrupted).hashes).toEqual(storedSeeds(clean).hashes);
    const table = (output: string) => output.trim().split('\n').slice(0, -1).join('\n');
    expect(table(second.stdout)).toBe(table(uninterrupted.stdout));
    const runId = /run=(\S+)/.exec(lastLine)![1]!;
    const results = await xfer(['results', runId, '--db', interrupted]).done;
    expect(results.code).toBe(0);
    expect(table(results.stdout)).toBe(table(uninterrupted.stdout));
    expect(results.stdout.trim().split('\n').at(-1)).toBe(
      `run=${runId} status=completed samples=48 unscored=0`,
    );
  });

  it('bad arguments are typed errors naming the field', async () => {
    const result = await xfer([
      'eval',
      '--model',
      'nano-base',
      '--benchmarks',
      'nano-arithmetic',
      '--samples',
      '0',
      '--db',
      join(directory, 'x.db'),
    ]).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("xfer: error INVALID_INPUT: field '--samples'");
    const unknown = await xfer([
      'eval',
      '--model',
      'nano-base',
      '--benchmarks',
      'mmlu',
      '--db',
      join(directory, 'x.db'),
    ]).done;
    expect(unknown.stderr).toContain('field \'benchmarks\': unknown benchmark or group "mmlu"');
  });
});
