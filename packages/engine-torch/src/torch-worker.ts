import { type ChildProcess, spawn } from 'node:child_process';
import {
  EngineError,
  type ErrorCode,
  errorCodes,
  PROTOCOL_VERSION,
  parseJson,
  type RequestFrameInput,
  RequestFrameSchema,
  type RequestType,
  type ResponseFrame,
  ResponseFrameSchema,
  ResultSchemas,
  safeParseWith,
  TrainingDivergedError,
  ValidationError,
  validationErrorFromZod,
  type WireError,
  WorkerError,
  XferError,
} from '@xfer/core';
import type { z } from 'zod';
import { workerEnvironment } from './environment.js';
import { NdjsonSplitter, TailBuffer } from './framing.js';
import { defaultWorkerDirectory } from './protocol-schema.js';

/** The `ready` frame a worker sends first. */
export type ReadyFrame = Extract<ResponseFrame, { type: 'ready' }>;
/** Typed result of each request type. */
export type ResultOf<T extends RequestType> = z.output<(typeof ResultSchemas)[T]>;
/** Params of each request type, as callers write them (defaults optional). */
export type ParamsOf<T extends RequestType> = Extract<RequestFrameInput, { type: T }>['params'];

/** Something the worker or the bridge reports that is not a reply: worker logs, stray stdout, overflows. */
export interface WorkerLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  source: 'worker' | 'stdout' | 'bridge';
}

/** How to launch the worker. */
export type WorkerLauncher =
  | { kind: 'python' }
  | {
      kind: 'torchrun';
      /** torchrun executable (default: `torchrun` on PATH). */
      torchrun?: string;
      nprocPerNode: number;
      /** Extra torchrun arguments (`--nnodes`, `--rdzv-endpoint`...). */
      args?: string[];
    };

export interface TorchWorkerOptions {
  /** Python executable (default `$XFER_PYTHON` or `/usr/bin/python3`). */
  python?: string;
  launcher?: WorkerLauncher;
  /** The `workers/torch` directory (default: this repository's). */
  workerDirectory?: string;
  /** Extra environment variables, passed as they are (the rest of the environment is allow-listed). */
  env?: Record<string, string>;
  /** How long to wait for the `ready` frame. Default 120 s. */
  readyTimeoutMs?: number;
  /** Default per-request timeout; 0 disables. Default 0. */
  requestTimeoutMs?: number;
  /** Longest stdout line accepted. Default 256 MiB. */
  maxFrameBytes?: number;
  /** Bytes of stderr kept for crash reports. Default 16 KiB. */
  stderrTailBytes?: number;
  /** Worker log frames, stray stdout lines and bridge warnings. */
  onLog?: (entry: WorkerLogEntry) => void;
  /** Raw stderr of the worker, as it arrives. */
  onStderr?: (text: string) => void;
  /** Grace periods of close(): stdin EOF, then SIGTERM, then SIGKILL. Default 10 s and 5 s. */
  shutdownGraceMs?: number;
  terminateGraceMs?: number;
}

export interface RequestOptions<T extends RequestType> {
  signal?: AbortSignal;
  /** Overrides the worker's default request timeout; 0 disables. */
  timeoutMs?: number;
  onProgress?: (progress: { done: number; total: number; tokens: number; message?: string }) => void;
  /** Internal: the result type (for typing only). */
  type?: T;
}

interface Pending {
  type: RequestType;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onProgress:
    | ((progress: { done: number; total: number; tokens: number; message?: string }) => void)
    | undefined;
  cleanup: () => void;
}

const knownCodes = new Set<string>(errorCodes);

/** Map a wire error to the local error family (one seam, as CONVENTIONS §6 asks). */
export function errorFromWire(error: WireError, requestId: string): XferError {
  const data = error.data ?? {};
  switch (error.code) {
    case 'INVALID_INPUT':
    case 'CHECKPOINT_INVALID': {
      const field = typeof data.field === 'string' ? data.field : undefined;
      const file = typeof data.file === 'string' ? data.file : undefined;
      return new ValidationError({
        code: error.code,
        message: `torch worker: ${error.message}`,
        ...(field === undefined ? {} : { field }),
        ...(file === undefined ? {} : { file }),
        data: { ...data, requestId },
      });
    }
    case 'TRAINING_DIVERGED':
      return new TrainingDivergedError({
        step: Number(data.step ?? 0),
        tensor: String(data.tensor ?? 'unknown'),
        value: Number(data.value ?? Number.NaN),
      });
    case 'ENGINE_UNSUPPORTED':
      return new EngineError({
        engine: 'torch',
        code: 'ENGINE_UNSUPPORTED',
        message: error.message,
        requestId,
        data,
      });
    case 'CANCELLED':
      return new XferError({
        code: 'CANCELLED',
        message: `torch worker: request ${requestId} was cancelled`,
        data,
      });
    default:
      return new WorkerError({
        reason: 'remote',
        message: `torch worker (request ${requestId}): ${error.code}: ${error.message}`,
        data: { ...data, remoteCode: knownCodes.has(error.code) ? (error.code as ErrorCode) : error.code },
      });
  }
}

/**
 * One running worker process and the protocol over its pipes: spawn with an allow-listed environment,
 * wait for `ready`, send requests with ids, route progress/result/error frames back, cancel on abort,
 * time out, and on a crash reject every pending request with a WorkerError carrying the stderr tail.
 */
export class TorchWorker {
  readonly ready: ReadyFrame;
  private readonly child: ChildProcess;
  private readonly pending = new Map<string, Pending>();
  private readonly stderr: TailBuffer;
  private readonly options: TorchWorkerOptions;
  private counter = 0;
  private exited: WorkerError | undefined;
  private readonly exitPromise: Promise<void>;

  private constructor(
    child: ChildProcess,
    ready: ReadyFrame,
    stderr: TailBuffer,
    options: TorchWorkerOptions,
    exitPromise: Promise<void>,
  ) {
    this.child = child;
    this.ready = ready;
    this.stderr = stderr;
    this.options = options;
    this.exitPromise = exitPromise;
  }

  /** The worker's process id (rank 0's launcher under torchrun). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Whether the process is still running. */
  /** How the process ended (`undefined` while it runs). */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    if (!this.exited) return undefined;
    const data = this.exited.data as { exitCode?: number | null; signal?: NodeJS.Signals | null };
    return { code: data.exitCode ?? null, signal: data.signal ?? null };
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  /** The last bytes the worker wrote to stderr. */
  get stderrTail(): string {
    return this.stderr.toString();
  }

  /** Spawn the worker and wait for its `ready` frame. */
  static async start(options: TorchWorkerOptions = {}): Promise<TorchWorker> {
    const workerDirectory = options.workerDirectory ?? defaultWorkerDirectory;
    const python = options.python ?? process.env.XFER_PYTHON ?? '/usr/bin/python3';
    const launcher = options.launcher ?? { kind: 'python' };
    const [command, args] =
      launcher.kind === 'python'
        ? [python, ['-m', 'xfer_worker']]
        : [
            launcher.torchrun ?? 'torchrun',
            [`--nproc_per_node=${launcher.nprocPerNode}`, ...(launcher.args ?? []), '-m', 'xfer_worker'],
          ];
    const env = workerEnvironment({ workerDirectory, ...(options.env ? { extra: options.env } : {}) });
    const stderr = new TailBuffer(options.stderrTailBytes ?? 16 * 1024);
    const log = (entry: WorkerLogEntry) => options.onLog?.(entry);
    let child: ChildProcess;
    try {
      child = spawn(command, args as string[], {
        cwd: workerDirectory,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (cause) {
      throw new WorkerError({
        reason: 'spawn',
        message: `cannot start ${command}: ${(cause as Error).message}`,
        cause,
      });
    }
    let worker: TorchWorker | undefined;
    let readyResolve: (frame: ReadyFrame) => void = () => {};
    let readyReject: (error: unknown) => void = () => {};
    const readyPromise = new Promise<ReadyFrame>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    let exitResolve: () => void = () => {};
    const exitPromise = new Promise<void>((resolve) => {
      exitResolve = resolve;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk.toString('utf8'));
    });
    const splitter = new NdjsonSplitter(options.maxFrameBytes ?? 256 * 1024 * 1024, (bytes) =>
      log({
        level: 'error',
        source: 'bridge',
        message: `dropped a stdout line of ${bytes}+ bytes (over the frame cap)`,
      }),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = parseJson(line, { field: 'stdout' });
        } catch {
          log({
            level: 'warn',
            source: 'stdout',
            message: `ignored a non-JSON line on the worker's stdout: ${line.slice(0, 200)}`,
          });
          continue;
        }
        const parsed = safeParseWith(ResponseFrameSchema, value, { field: 'frame' });
        if (!parsed.success) {
          log({
            level: 'warn',
            source: 'stdout',
            message: `ignored a line that is not a protocol frame (${parsed.error.message}): ${line.slice(0, 200)}`,
          });
          continue;
        }
        const frame = parsed.data;
        if (frame.type === 'ready') {
          readyResolve(frame);
          continue;
        }
        if (worker) worker.route(frame);
        else
          log({
            level: 'warn',
            source: 'stdout',
            message: `frame before ready ignored: ${line.slice(0, 200)}`,
          });
      }
    });
    child.stdin!.on('error', () => {
      // EPIPE after a crash: the exit handler reports it
    });
    child.on('error', (cause) => {
      readyReject(
        new WorkerError({
          reason: 'spawn',
          message: `cannot start ${command}: ${cause.message}`,
          stderrTail: stderr.toString(),
          cause,
        }),
      );
    });
    child.on('exit', (code, signal) => {
      const error = new WorkerError({
        reason: 'crash',
        message: `torch worker (pid ${child.pid}) exited with ${signal ? `signal ${signal}` : `code ${code}`}`,
        stderrTail: stderr.toString(),
        data: { exitCode: code, signal },
      });
      readyReject(error);
      if (worker) worker.onExit(error);
      exitResolve();
    });
    const readyTimeout = options.readyTimeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      readyReject(
        new WorkerError({
          reason: 'timeout',
          message: `torch worker sent no ready frame within ${readyTimeout} ms`,
          stderrTail: stderr.toString(),
        }),
      );
    }, readyTimeout);
    let ready: ReadyFrame;
    try {
      ready = await readyPromise;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (ready.protocolVersion !== PROTOCOL_VERSION) {
      child.kill('SIGKILL');
      throw new WorkerError({
        reason: 'protocol',
        message: `worker speaks protocol ${ready.protocolVersion}, expected ${PROTOCOL_VERSION}`,
      });
    }
    worker = new TorchWorker(child, ready, stderr, options, exitPromise);
    return worker;
  }

  private route(frame: ResponseFrame): void {
    if (frame.type === 'log') {
      this.options.onLog?.({ level: frame.level, message: frame.message, source: 'worker' });
      return;
    }
    if (frame.type === 'ready') return;
    const pending = this.pending.get(frame.id);
    if (!pending) {
      const detail = frame.type === 'error' ? `${frame.error.code}: ${frame.error.message}` : frame.type;
      this.options.onLog?.({
        level: 'warn',
        source: 'bridge',
        message: `frame for unknown request ${frame.id} (${detail})`,
      });
      return;
    }
    if (frame.type === 'progress') {
      pending.onProgress?.({
        done: frame.done,
        total: frame.total,
        tokens: frame.tokens,
        ...(frame.message === undefined ? {} : { message: frame.message }),
      });
      return;
    }
    this.pending.delete(frame.id);
    pending.cleanup();
    if (frame.type === 'error') {
      pending.reject(errorFromWire(frame.error, frame.id));
      return;
    }
    const parsed = safeParseWith(ResultSchemas[pending.type], frame.data, {
      field: `result(${pending.type})`,
    });
    if (parsed.success) pending.resolve(parsed.data);
    else
      pending.reject(
        new WorkerError({
          reason: 'protocol',
          message: `malformed ${pending.type} result: ${parsed.error.message}`,
          cause: parsed.error,
        }),
      );
  }

  private onExit(error: WorkerError): void {
    this.exited = error;
    for (const [, pending] of this.pending) {
      pending.cleanup();
      pending.reject(error);
    }
    this.pending.clear();
  }

  private write(frame: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(frame)}\n`);
  }

  /** Send one request and wait for its result (validated against core's result schema). */
  request<T extends RequestType>(
    type: T,
    params: ParamsOf<T>,
    options: RequestOptions<T> = {},
  ): Promise<ResultOf<T>> {
    if (this.exited) return Promise.reject(this.exited);
    this.counter += 1;
    const id = `${type}-${this.counter}`;
    const parsed = RequestFrameSchema.safeParse({ v: PROTOCOL_VERSION, id, type, params });
    if (!parsed.success) return Promise.reject(validationErrorFromZod(parsed.error));
    if (options.signal?.aborted) {
      return Promise.reject(
        new XferError({
          code: 'CANCELLED',
          message: `torch worker: ${type} was cancelled before it was sent`,
        }),
      );
    }
    return new Promise<ResultOf<T>>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 0;
      let timer: NodeJS.Timeout | undefined;
      const abort = () => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        cleanup();
        this.sendCancel(id);
        reject(new XferError({ code: 'CANCELLED', message: `torch worker: ${type} (${id}) was cancelled` }));
      };
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', abort);
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          if (!this.pending.has(id)) return;
          this.pending.delete(id);
          cleanup();
          this.sendCancel(id);
          reject(
            new WorkerError({
              reason: 'timeout',
              message: `torch worker: ${type} (${id}) took longer than ${timeoutMs} ms`,
              stderrTail: this.stderrTail,
            }),
          );
        }, timeoutMs);
      }
      options.signal?.addEventListener('abort', abort, { once: true });
      this.pending.set(id, {
        type,
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress: options.onProgress,
        cleanup,
      });
      this.write(parsed.data);
    });
  }

  private sendCancel(target: string): void {
    if (this.exited) return;
    this.counter += 1;
    this.write({ v: PROTOCOL_VERSION, id: `cancel-${this.counter}`, type: 'cancel', params: { target } });
  }

  /** Requests still waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Stop the worker: close stdin (the worker finishes its current frame and exits), then SIGTERM, then
   * SIGKILL. Pending requests are rejected. Resolves once the process is gone.
   */
  async close(): Promise<void> {
    if (this.exited) return;
    const shutdownGrace = this.options.shutdownGraceMs ?? 10_000;
    const terminateGrace = this.options.terminateGraceMs ?? 5_000;
    const gone = (ms: number) =>
      Promise.race([
        this.exitPromise.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
      ]);
    this.child.stdin!.end();
    if (await gone(shutdownGrace)) return;
    this.child.kill('SIGTERM');
    if (await gone(terminateGrace)) return;
    this.child.kill('SIGKILL');
    await this.exitPromise;
  }
}
