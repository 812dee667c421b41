import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError, XferError } from '@xfer/core';

/** One test's verdict: accepted, wrong answer, time limit, runtime error, compile (syntax) error. */
export type TestVerdict = 'AC' | 'WA' | 'TLE' | 'RE' | 'CE';

/** Resource limits of one sandboxed process. */
export interface SandboxLimits {
  /** Wall-clock limit per test in milliseconds (LiveCodeBench: 6 s). */
  timeoutMs: number;
  /** Address-space limit (RLIMIT_AS) in bytes. */
  memoryBytes: number;
  /** Process/thread limit (RLIMIT_NPROC) for the sandbox's own uid. */
  processes: number;
  /** Largest file the program may write (RLIMIT_FSIZE), in bytes. */
  fileSizeBytes: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  openFiles: number;
  /** Bytes of stdout kept; a program that writes more is stopped and gets RE. */
  outputBytes: number;
}

/** LiveCodeBench's 6 s timeout plus conservative limits for everything the reference leaves open. */
export const defaultSandboxLimits: SandboxLimits = {
  timeoutMs: 6000,
  memoryBytes: 2 * 1024 ** 3,
  processes: 32,
  fileSizeBytes: 16 * 1024 ** 2,
  openFiles: 64,
  outputBytes: 32 * 1024 ** 2,
};

/**
 * How strongly the machine isolates programs:
 * - `namespaces`: root; fresh mount, network and PID namespaces, every filesystem read-only except the work dir,
 *   a private uid per run (so the process limit is per run);
 * - `user-namespaces`: not root but user namespaces allowed: network and PID namespaces; writes outside the
 *   work dir are refused by a Python audit hook only;
 * - `audit-hook`: no namespaces: rlimits plus a Python audit hook that refuses sockets and writes outside the
 *   work dir (not a security boundary).
 */
export type IsolationLevel = 'namespaces' | 'user-namespaces' | 'audit-hook';

/** How a program is run: see {@link ProgramRun.protocol}. */
export type SandboxProtocol = 'livecodebench' | 'evalchemy' | 'plain';

/** What to run for one test. */
export interface ProgramRun {
  /** The Python source. */
  code: string;
  /** `stdin`: the program reads the input and prints; `call`: `Solution().<functionName>(*args)` (LeetCode). */
  mode: 'stdin' | 'call';
  /** stdin text (`stdin` mode) or one JSON value per line, the call's arguments (`call` mode). */
  input: string;
  /** `call` mode: the expected return value as JSON (compared in Python with `==`, tuples as lists). */
  expectedOutput?: string;
  /** `call` mode: the method to call. */
  functionName?: string;
  /**
   * How to run the program (see python-runner.py):
   * - `livecodebench` (default): as the official `lcb_runner` testing_util (stdin programs with the
   *   `if __name__ == '__main__':` block unwrapped and the body wrapped in a function after the reference's
   *   import prelude; call mode: `Solution().<functionName>(*json_args)` compared with `==`, tuples as lists);
   * - `evalchemy`: as the paper's harness (evalchemy's SkyThought `testing_util`): stdin programs exec'd in fresh
   *   globals with StringIO stdin/stdout (`__name__ = "__main__"` prepended only when the text contains
   *   `__name__ == "__main__"`); call mode calls the first name before `(` in the code with that harness's
   *   argument parser and compares with `==`; its `reliability_guard` applied (no `exit`, `os.fork`, ...);
   * - `plain`: the file runs as `__main__` (stdin mode only).
   */
  protocol?: SandboxProtocol;
  limits?: Partial<SandboxLimits>;
}

/** What one sandboxed run produced. */
export interface ProgramResult {
  /** `ok` when the program finished (the caller decides AC/WA), otherwise the failure verdict. */
  outcome: 'ok' | 'TLE' | 'RE' | 'CE';
  stdout: string;
  stderrTail: string;
  /** `call` mode: did the return value equal the expected one? */
  passed?: boolean;
  /** A short description of the error or the returned value. */
  message?: string;
  /** Python exception type for RE (`MemoryError`, `PermissionError`, ...). */
  errorType?: string;
  /** Wall time of the whole process, start-up included. */
  wallMs: number;
  /** Time spent in the program itself, measured inside the sandbox (absent when it did not finish). */
  executionMs?: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  isolation: IsolationLevel;
}

/** Sandbox options independent of the program. */
export interface SandboxOptions {
  /** The Python interpreter (default `/usr/bin/python3`, the system Python). */
  python?: string;
  /** Force an isolation level (default: the strongest the machine supports). */
  isolation?: IsolationLevel;
  /** Parent of the throwaway job directories (default the OS temp dir). */
  temporaryDirectory?: string;
}

/**
 * How many sandboxed programs may run at once in this process (default: the machine's available parallelism).
 * Runs beyond it wait, so that programs do not time out because they compete for CPU.
 */
export function setSandboxConcurrency(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError({
      message: `sandbox concurrency must be a positive integer, got ${limit}`,
      field: 'limit',
    });
  }
  concurrencyLimit = limit;
  releaseWaiting();
}

let concurrencyLimit = Math.max(1, availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

function releaseWaiting(): void {
  while (running < concurrencyLimit && waiting.length > 0) {
    running += 1;
    waiting.shift()?.();
  }
}

async function acquireSlot(): Promise<void> {
  if (running < concurrencyLimit) {
    running += 1;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function releaseSlot(): void {
  running -= 1;
  releaseWaiting();
}

const RUNNER = fileURLToPath(new URL('./python-runner.py', import.meta.url));
const DEFAULT_PYTHON = '/usr/bin/python3';
const NAMESPACE_FLAGS = ['--mount', '--net', '--pid', '--fork', '--kill-child', '--mount-proc'];

let detectedIsolation: IsolationLevel | undefined;

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

function probe(flags: string[]): boolean {
  return spawnSync('unshare', [...flags, '--', '/bin/true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

/** Can this machine run programs at `level`? (`audit-hook` always can.) */
export function isIsolationAvailable(level: IsolationLevel): boolean {
  if (level === 'namespaces') return isRoot() && probe(NAMESPACE_FLAGS);
  if (level === 'user-namespaces') return probe(['--user', '--map-root-user', ...NAMESPACE_FLAGS]);
  return true;
}

/** The strongest isolation this machine supports (probed once, then cached). */
export function detectIsolation(): IsolationLevel {
  if (detectedIsolation) return detectedIsolation;
  const levels: IsolationLevel[] = ['namespaces', 'user-namespaces', 'audit-hook'];
  detectedIsolation = levels.find((level) => isIsolationAvailable(level)) ?? 'audit-hook';
  return detectedIsolation;
}

function commandFor(isolation: IsolationLevel, python: string, jobDirectory: string): [string, string[]] {
  const runner = [python, '-I', RUNNER, jobDirectory];
  if (isolation === 'namespaces') return ['unshare', [...NAMESPACE_FLAGS, '--', ...runner]];
  if (isolation === 'user-namespaces')
    return ['unshare', ['--user', '--map-root-user', ...NAMESPACE_FLAGS, '--', ...runner]];
  const [command, ...rest] = runner;
  return [command ?? python, rest];
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

interface StatusLine {
  status?: string;
  passed?: boolean;
  output?: string;
  error?: string;
  type?: string;
  executionMs?: number;
}

function lastStatus(text: string): StatusLine | undefined {
  const lines = text.split('\n').filter((line) => line.trim());
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    try {
      const value = JSON.parse(lines[index] ?? '') as unknown;
      if (typeof value === 'object' && value !== null) return value as StatusLine;
    } catch {
      // not a status line
    }
  }
  return undefined;
}

/**
 * Run one test of an untrusted Python program in a fresh process under the sandbox (see {@link IsolationLevel}):
 * a throwaway work directory as cwd, a cleared environment, rlimits on CPU, memory, processes, file size and
 * open files, a wall-clock timeout that kills the whole process tree.
 *
 * @example
 * const result = await runProgram({ code: 'print(int(input()) * 2)', mode: 'stdin', input: '21\n' });
 * result.outcome; // 'ok'
 * result.stdout; // '42\n'
 */
export async function runProgram(run: ProgramRun, options: SandboxOptions = {}): Promise<ProgramResult> {
  await acquireSlot();
  try {
    return await runProgramNow(run, options);
  } finally {
    releaseSlot();
  }
}

async function runProgramNow(run: ProgramRun, options: SandboxOptions): Promise<ProgramResult> {
  const limits = { ...defaultSandboxLimits, ...run.limits };
  const isolation = options.isolation ?? detectIsolation();
  const python = options.python ?? DEFAULT_PYTHON;
  const jobDirectory = mkdtempSync(join(options.temporaryDirectory ?? tmpdir(), 'xfer-sandbox-'));
  const uid = 200_000 + randomInt(0, 60_000);
  try {
    const control = join(jobDirectory, 'control');
    const work = join(jobDirectory, 'work');
    mkdirSync(control, { mode: 0o700 });
    mkdirSync(work, { mode: 0o700 });
    chmodSync(jobDirectory, 0o711);
    const dropPrivileges = isolation !== 'user-namespaces' && isRoot();
    if (dropPrivileges) chownSync(work, uid, uid);
    writeFileSync(join(control, 'program.py'), run.code, { mode: 0o600 });
    writeFileSync(
      join(control, 'config.json'),
      JSON.stringify({
        mode: run.mode,
        protocol: run.protocol ?? 'livecodebench',
        input: run.input,
        expectedOutput: run.expectedOutput ?? 'null',
        functionName: run.functionName ?? '',
        uid,
        dropPrivileges,
        readOnlyMounts: isolation === 'namespaces',
        networkNamespace: isolation !== 'audit-hook',
        limits: {
          cpuSeconds: Math.ceil(limits.timeoutMs / 1000) + 1,
          memoryBytes: limits.memoryBytes,
          processes: limits.processes,
          fileSizeBytes: limits.fileSizeBytes,
          openFiles: limits.openFiles,
        },
      }),
      { mode: 0o600 },
    );
    return await execute(isolation, python, jobDirectory, run, limits);
  } finally {
    rmSync(jobDirectory, { recursive: true, force: true, maxRetries: 3 });
  }
}

function execute(
  isolation: IsolationLevel,
  python: string,
  jobDirectory: string,
  run: ProgramRun,
  limits: SandboxLimits,
): Promise<ProgramResult> {
  const [command, args] = commandFor(isolation, python, jobDirectory);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: join(jobDirectory, 'work'),
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8' },
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (cause) {
      reject(new XferError({ code: 'SANDBOX_FAILED', message: `cannot start ${command}`, cause }));
      return;
    }
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let status = '';
    let timedOut = false;
    let outputExceeded = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, limits.timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.outputBytes) {
        if (!outputExceeded) {
          outputExceeded = true;
          killGroup(child);
        }
        return;
      }
      stdoutChunks.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const statusStream = child.stdio[3];
    statusStream?.on('data', (chunk: Buffer) => {
      if (status.length < 1_000_000) status += chunk.toString('utf8');
    });
    child.stdin?.on('error', () => {
      // the program may exit without reading its input
    });
    child.stdin?.end(run.mode === 'stdin' ? run.input : '');
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(
        new XferError({ code: 'SANDBOX_FAILED', message: `sandbox process failed: ${cause.message}`, cause }),
      );
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      killGroup(child);
      const wallMs = performance.now() - started;
      const stdout = Buffer.concat(stdoutChunks).toString('utf8');
      const parsed = lastStatus(status);
      const base = { stdout, stderrTail: stderr, wallMs, exitCode, signal, isolation };
      const cpuExceeded = signal === 'SIGXCPU' || stderr.includes('CPU time limit exceeded');
      if (timedOut || cpuExceeded) {
        resolve({ ...base, outcome: 'TLE', message: `time limit of ${limits.timeoutMs} ms exceeded` });
        return;
      }
      if (outputExceeded) {
        resolve({ ...base, outcome: 'RE', message: `output limit of ${limits.outputBytes} bytes exceeded` });
        return;
      }
      if (parsed?.status === 'compile_error') {
        resolve({ ...base, outcome: 'CE', ...(parsed.error ? { message: parsed.error } : {}) });
        return;
      }
      if (parsed?.status === 'runtime_error') {
        resolve({
          ...base,
          outcome: 'RE',
          ...(parsed.error ? { message: parsed.error } : {}),
          ...(parsed.type ? { errorType: parsed.type } : {}),
        });
        return;
      }
      if (parsed?.status === 'ok' && exitCode === 0) {
        resolve({
          ...base,
          outcome: 'ok',
          ...(parsed.passed === undefined ? {} : { passed: parsed.passed }),
          ...(parsed.output === undefined ? {} : { message: parsed.output }),
          ...(parsed.executionMs === undefined ? {} : { executionMs: parsed.executionMs }),
        });
        return;
      }
      if (
        !parsed &&
        (exitCode === 127 || exitCode === 2) &&
        /failed to execute|can't open file|No such file or directory/.test(stderr)
      ) {
        reject(
          new XferError({
            code: 'SANDBOX_FAILED',
            message: `the sandbox could not start ${python}: ${stderr.trim().slice(-300)}`,
          }),
        );
        return;
      }
      const how = signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
      resolve({ ...base, outcome: 'RE', message: `the program ${how} before finishing` });
    });
  });
}
