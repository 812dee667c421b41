import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectIsolation,
  type IsolationLevel,
  isIsolationAvailable,
  runProgram,
  setSandboxConcurrency,
} from './run-program.js';

/** Command lines of every live process whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').replaceAll('\0', ' ');
      if (commandLine.includes(marker)) found.push(`${entry}: ${commandLine}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function sandboxDirectories(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('xfer-sandbox-'));
}

const fast = { timeoutMs: 1500 };

describe('sandbox (strongest isolation this machine offers)', () => {
  let isolation: IsolationLevel;
  let server: Server;
  let port = 0;
  let connections = 0;
  let directoriesBefore: string[];

  beforeAll(async () => {
    isolation = detectIsolation();
    directoriesBefore = sandboxDirectories();
    server = createServer((socket) => {
      connections += 1;
      socket.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs a correct program and reports its output and times', async () => {
    const result = await runProgram({ code: 'n = int(input())\nprint(n * 2)', mode: 'stdin', input: '21\n' });
    expect(result).toMatchObject({ outcome: 'ok', stdout: '42\n', exitCode: 0, isolation });
    expect(result.wallMs).toBeGreaterThan(0);
    expect(result.executionMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a syntax error as CE and an exception as RE', async () => {
    const compileError = await runProgram({ code: 'print(1', mode: 'stdin', input: '' });
    expect(compileError.outcome).toBe('CE');
    expect(compileError.message).toMatch(/SyntaxError/);
    const runtimeError = await runProgram({ code: 'print([1][3])', mode: 'stdin', input: '' });
    expect(runtimeError).toMatchObject({ outcome: 'RE', errorType: 'IndexError' });
  });

  it('stops an infinite loop at the timeout with TLE', async () => {
    const result = await runProgram({
      code: 'while True:\n    pass',
      mode: 'stdin',
      input: '',
      limits: fast,
    });
    expect(result.outcome).toBe('TLE');
    expect(result.wallMs).toBeGreaterThanOrEqual(1400);
    expect(result.wallMs).toBeLessThan(5000);
  });

  it('contains a fork bomb and leaves no process behind', async () => {
    // Every child becomes a long sleeper with a marker argument, so survivors would be visible in /proc.
    const marker = `${process.pid}.2718`;
    const code = [
      'import os, time',
      'while True:',
      '    try:',
      '        if os.fork() == 0:',
      `            os.execv("/bin/sleep", ["sleep", "${marker}"])`,
      '    except OSError:',
      '        time.sleep(0.001)',
    ].join('\n');
    const result = await runProgram({ code, mode: 'stdin', input: '', limits: fast });
    expect(result.outcome).toBe('TLE');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(processesWith(`sleep ${marker}`)).toEqual([]);
    // The machine can still start processes.
    const after = await runProgram({ code: 'print("alive")', mode: 'stdin', input: '' });
    expect(after.stdout).toBe('alive\n');
  });

  it('kills background children when the test ends', async () => {
    const code = 'import subprocess\nsubprocess.Popen(["sleep", "31.4159"])\nprint("spawned")';
    const result = await runProgram({ code, mode: 'stdin', input: '' });
    expect(result.stdout).toBe('spawned\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(processesWith('31.4159')).toEqual([]);
  });

  it('refuses a 10 GB allocation with RE (MemoryError) without touching the machine', async () => {
    const result = await runProgram({
      code: 'block = bytearray(10 * 1024 ** 3)\nprint(len(block))',
      mode: 'stdin',
      input: '',
    });
    expect(result).toMatchObject({ outcome: 'RE', errorType: 'MemoryError', stdout: '' });
    // Refused at once, not after swapping: well under the 6 s limit even on a loaded machine.
    expect(result.wallMs).toBeLessThan(5000);
  });

  it('blocks network connections, even to a server on this machine', async () => {
    const code = [
      'import socket',
      `connection = socket.create_connection(("127.0.0.1", ${port}), timeout=2)`,
      'print(connection.recv(100).decode())',
    ].join('\n');
    const result = await runProgram({ code, mode: 'stdin', input: '' });
    expect(result.outcome).toBe('RE');
    expect(result.stdout).toBe('');
    expect(connections).toBe(0);
  });

  it('refuses writes outside its own directory but allows them inside', async () => {
    const outside = join(tmpdir(), `xfer-escape-${process.pid}.txt`);
    const escapeAttempt = await runProgram({
      code: `open(${JSON.stringify(outside)}, "w").write("escaped")\nprint("wrote")`,
      mode: 'stdin',
      input: '',
    });
    expect(escapeAttempt.outcome).toBe('RE');
    expect(escapeAttempt.stdout).toBe('');
    expect(existsSync(outside)).toBe(false);
    const parent = await runProgram({
      code: 'open("../escape.txt", "w").write("x")',
      mode: 'stdin',
      input: '',
    });
    expect(parent.outcome).toBe('RE');
    const inside = await runProgram({
      code: 'open("scratch.txt", "w").write("kept")\nprint(open("scratch.txt").read())',
      mode: 'stdin',
      input: '',
    });
    expect(inside).toMatchObject({ outcome: 'ok', stdout: 'kept\n' });
  });

  it('limits file size and output size', async () => {
    const bigFile = await runProgram({
      code: 'with open("big.bin", "wb") as handle:\n    handle.write(b"x" * (64 * 1024 ** 2))',
      mode: 'stdin',
      input: '',
      limits: { fileSizeBytes: 1024 ** 2 },
    });
    expect(bigFile.outcome).toBe('RE');
    const flood = await runProgram({
      code: 'import sys\nwhile True:\n    sys.stdout.write("y" * 65536)',
      mode: 'stdin',
      input: '',
      limits: { outputBytes: 1024 ** 2, timeoutMs: 3000 },
    });
    expect(flood.outcome).toBe('RE');
    expect(flood.message).toMatch(/output limit/);
  });

  it('clears the environment and removes its throwaway directory', async () => {
    const result = await runProgram({
      code: 'import os\nprint(sorted(os.environ))\nprint(os.getcwd().endswith("/work"))',
      mode: 'stdin',
      input: '',
    });
    expect(result.stdout).toBe("['LANG', 'PATH', 'PYTHONIOENCODING']\nTrue\n");
    expect(sandboxDirectories()).toEqual(directoriesBefore);
  });

  it('runs call-based (LeetCode) programs and compares with Python equality', async () => {
    const code = 'class Solution:\n    def pair(self, a, b):\n        return (a + b, a * b)';
    const right = await runProgram({
      code,
      mode: 'call',
      input: '2\n3',
      expectedOutput: '[5, 6]',
      functionName: 'pair',
    });
    expect(right).toMatchObject({ outcome: 'ok', passed: true });
    const wrong = await runProgram({
      code,
      mode: 'call',
      input: '2\n3',
      expectedOutput: '[5, 7]',
      functionName: 'pair',
    });
    expect(wrong).toMatchObject({ outcome: 'ok', passed: false, message: '[5, 6]' });
  });
});

describe('sandbox fallback isolation levels', () => {
  // Every weaker level this machine supports (audit-hook always).
  const levels = (['user-namespaces', 'audit-hook'] as const).filter((level) => isIsolationAvailable(level));
  for (const level of levels) {
    it(`${level}: still blocks writes outside and the network`, async () => {
      const outside = join(tmpdir(), `xfer-escape-${level}-${process.pid}.txt`);
      const escapeAttempt = await runProgram(
        { code: `open(${JSON.stringify(outside)}, "w").write("x")`, mode: 'stdin', input: '' },
        { isolation: level },
      );
      expect(escapeAttempt.outcome).toBe('RE');
      expect(existsSync(outside)).toBe(false);
      const network = await runProgram(
        {
          code: 'import socket\nsocket.create_connection(("127.0.0.1", 9), timeout=1)',
          mode: 'stdin',
          input: '',
        },
        { isolation: level },
      );
      expect(network.outcome).toBe('RE');
      expect(network.isolation).toBe(level);
    });
  }
});

describe('sandbox concurrency', () => {
  it('runs at most the configured number of programs at once', async () => {
    setSandboxConcurrency(1);
    try {
      const started = performance.now();
      const results = await Promise.all(
        [0, 1, 2].map(() =>
          runProgram({ code: 'import time\ntime.sleep(0.3)\nprint("done")', mode: 'stdin', input: '' }),
        ),
      );
      expect(results.map((result) => result.stdout)).toEqual(['done\n', 'done\n', 'done\n']);
      // One at a time: three 0.3 s sleeps cannot overlap.
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      setSandboxConcurrency(availableParallelism());
    }
    expect(() => setSandboxConcurrency(0)).toThrowError(/positive integer/);
  });
});

describe('sandbox start-up failures', () => {
  it('reports a missing interpreter as SANDBOX_FAILED, not as a program error', async () => {
    await expect(
      runProgram({ code: 'print(1)', mode: 'stdin', input: '' }, { python: '/nonexistent/python3' }),
    ).rejects.toMatchObject({ code: 'SANDBOX_FAILED' });
  });
});
