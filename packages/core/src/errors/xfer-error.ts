const marker = Symbol.for('xfer.error');

/**
 * Stable, machine-readable error codes. A code never changes meaning once published; add new ones instead.
 * Wire payloads (worker frames, HTTP bodies) carry these codes, never serialised exceptions.
 */
export const errorCodes = [
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'INVALID_DATA_FILE',
  'INVALID_MODEL_OUTPUT',
  'NOT_FOUND',
  'CONFLICT',
  'INCOMPARABLE_RUNS',
  'DB_OPEN_FAILED',
  'DB_MIGRATION_FAILED',
  'DB_CORRUPT_ROW',
  'DB_WRITE_FAILED',
  'ENGINE_UNSUPPORTED',
  'ENGINE_REQUEST_FAILED',
  'ENGINE_TIMEOUT',
  'CHECKPOINT_INVALID',
  'WORKER_SPAWN_FAILED',
  'WORKER_CRASHED',
  'WORKER_PROTOCOL',
  'WORKER_TIMEOUT',
  'WORKER_REMOTE_ERROR',
  'TRAINING_DIVERGED',
  'SANDBOX_FAILED',
  'CANCELLED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface XferErrorOptions {
  code: ErrorCode;
  message: string;
  cause?: unknown;
  /** Structured, JSON-serialisable context: file, line, field, request id, table, column... */
  data?: Record<string, unknown>;
}

/**
 * The one base class of every xfer error. Check with `XferError.isInstance(e)` (or the subclass's
 * `isInstance`), never `instanceof`: duplicate package copies break `instanceof`.
 */
export class XferError extends Error {
  private readonly [marker] = true;
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor({ code, message, cause, data }: XferErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'XferError';
    this.code = code;
    this.data = data ?? {};
  }

  static isInstance(error: unknown): error is XferError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  /** Does `error` carry the given code? */
  static hasCode(error: unknown, code: ErrorCode): error is XferError {
    return XferError.isInstance(error) && error.code === code;
  }

  /** The wire shape `{ code, message, data }` used by worker frames and HTTP bodies. */
  toWire(): { code: ErrorCode; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** Map anything thrown to an XferError, keeping it if it already is one. */
export function toXferError(error: unknown, code: ErrorCode = 'INTERNAL'): XferError {
  if (XferError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new XferError({ code, message, cause: error });
}
