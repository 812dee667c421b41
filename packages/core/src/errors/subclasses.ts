import { type ErrorCode, XferError } from './xfer-error.js';

function brand(name: string) {
  return Symbol.for(`xfer.error.${name}`);
}

const validationMarker = brand('ValidationError');
/**
 * Bad input: a config, a data file, an HTTP body, a worker frame, model output. Names where: `file`,
 * `line`, `field` (a dotted path) whenever they are known.
 */
export class ValidationError extends XferError {
  private readonly [validationMarker] = true;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(options: {
    message: string;
    code?: ErrorCode;
    file?: string;
    line?: number;
    field?: string;
    cause?: unknown;
    data?: Record<string, unknown>;
  }) {
    const where = [
      options.file,
      options.line === undefined ? undefined : `line ${options.line}`,
      options.field === undefined ? undefined : `field '${options.field}'`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super({
      code: options.code ?? 'INVALID_INPUT',
      message: where ? `${where}: ${options.message}` : options.message,
      cause: options.cause,
      data: { ...options.data, file: options.file, line: options.line, field: options.field },
    });
    this.name = 'ValidationError';
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }

  static override isInstance(error: unknown): error is ValidationError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[validationMarker] === true
    );
  }
}

const corruptMarker = brand('CorruptRowError');
/** A row read from the store fails validation: names the table, column and row id. */
export class CorruptRowError extends XferError {
  private readonly [corruptMarker] = true;
  readonly table: string;
  readonly column: string;
  readonly rowId: string | number;

  constructor(options: {
    table: string;
    column: string;
    rowId: string | number;
    message: string;
    cause?: unknown;
  }) {
    super({
      code: 'DB_CORRUPT_ROW',
      message: `${options.table}.${options.column} (id ${options.rowId}): ${options.message}`,
      cause: options.cause,
      data: { table: options.table, column: options.column, rowId: options.rowId },
    });
    this.name = 'CorruptRowError';
    this.table = options.table;
    this.column = options.column;
    this.rowId = options.rowId;
  }

  static override isInstance(error: unknown): error is CorruptRowError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[corruptMarker] === true
    );
  }
}

const engineMarker = brand('EngineError');
/** An engine failed, or cannot do what was asked (`ENGINE_UNSUPPORTED`): never a silent fallback. */
export class EngineError extends XferError {
  private readonly [engineMarker] = true;
  readonly engine: string;
  readonly requestId: string | undefined;

  constructor(options: {
    engine: string;
    message: string;
    code?: ErrorCode;
    requestId?: string;
    cause?: unknown;
    data?: Record<string, unknown>;
  }) {
    super({
      code: options.code ?? 'ENGINE_REQUEST_FAILED',
      message: `${options.engine}${options.requestId ? ` (request ${options.requestId})` : ''}: ${options.message}`,
      cause: options.cause,
      data: { ...options.data, engine: options.engine, requestId: options.requestId },
    });
    this.name = 'EngineError';
    this.engine = options.engine;
    this.requestId = options.requestId;
  }

  static override isInstance(error: unknown): error is EngineError {
    return (
      typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[engineMarker] === true
    );
  }
}

const workerMarker = brand('WorkerError');
export type WorkerErrorReason = 'spawn' | 'crash' | 'protocol' | 'timeout' | 'remote';
const workerCodes: Record<WorkerErrorReason, ErrorCode> = {
  spawn: 'WORKER_SPAWN_FAILED',
  crash: 'WORKER_CRASHED',
  protocol: 'WORKER_PROTOCOL',
  timeout: 'WORKER_TIMEOUT',
  remote: 'WORKER_REMOTE_ERROR',
};
/** The worker process could not start, died, spoke garbage, timed out, or reported an error. */
export class WorkerError extends XferError {
  private readonly [workerMarker] = true;
  readonly reason: WorkerErrorReason;
  /** The last lines the worker wrote to stderr, when it crashed. */
  readonly stderrTail: string;

  constructor(options: {
    reason: WorkerErrorReason;
    message: string;
    stderrTail?: string;
    cause?: unknown;
    data?: Record<string, unknown>;
  }) {
    super({
      code: workerCodes[options.reason],
      message: options.message,
      cause: options.cause,
      data: { ...options.data, reason: options.reason },
    });
    this.name = 'WorkerError';
    this.reason = options.reason;
    this.stderrTail = options.stderrTail ?? '';
  }

  static override isInstance(error: unknown): error is WorkerError {
    return (
      typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[workerMarker] === true
    );
  }
}

const trainingMarker = brand('TrainingDivergedError');
/** NaN/Inf in a loss or gradient: names the step and the tensor. No checkpoint is written after it. */
export class TrainingDivergedError extends XferError {
  private readonly [trainingMarker] = true;
  readonly step: number;
  readonly tensor: string;

  constructor(options: { step: number; tensor: string; value: number; cause?: unknown }) {
    super({
      code: 'TRAINING_DIVERGED',
      message: `training diverged at step ${options.step}: ${options.tensor} is ${options.value}`,
      cause: options.cause,
      data: { step: options.step, tensor: options.tensor, value: String(options.value) },
    });
    this.name = 'TrainingDivergedError';
    this.step = options.step;
    this.tensor = options.tensor;
  }

  static override isInstance(error: unknown): error is TrainingDivergedError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[trainingMarker] === true
    );
  }
}
