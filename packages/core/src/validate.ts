import type { z } from 'zod';
import { ValidationError } from './errors/index.js';

export type SafeResult<T> = { success: true; data: T } | { success: false; error: ValidationError };

export interface Where {
  /** The file the value came from, when it came from one. */
  file?: string;
  /** 1-based line in that file (JSONL, CSV). */
  line?: number;
  /** A prefix for the field path, e.g. `samples[3]`. */
  field?: string;
  code?: ValidationError['code'];
}

function issuePath(path: readonly PropertyKey[], prefix?: string): string | undefined {
  const parts = path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  const joined = `${prefix ?? ''}${parts}`.replace(/^\./, '');
  return joined === '' ? undefined : joined;
}

/** Turn a zod error into a ValidationError that names the first offending field. */
export function validationErrorFromZod(error: z.ZodError, where: Where = {}): ValidationError {
  const first = error.issues[0];
  const field = first ? issuePath(first.path, where.field) : where.field;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more issue(s))` : '';
  return new ValidationError({
    message: `${first?.message ?? 'invalid value'}${more}`,
    ...(where.code === undefined ? {} : { code: where.code }),
    ...(where.file === undefined ? {} : { file: where.file }),
    ...(where.line === undefined ? {} : { line: where.line }),
    ...(field === undefined ? {} : { field }),
    cause: error,
    data: { issues: error.issues.map((issue) => ({ path: issuePath(issue.path), message: issue.message })) },
  });
}

/** Parse or throw a ValidationError naming file, line and field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: Where = {}): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationErrorFromZod(result.error, where);
}

/** Parse without throwing. */
export function safeParseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: Where = {},
): SafeResult<z.output<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { success: true, data: result.data };
  return { success: false, error: validationErrorFromZod(result.error, where) };
}

/** `JSON.parse` that never throws a bare SyntaxError: bad JSON becomes a ValidationError naming where. */
export function parseJson(text: string, where: Where = {}): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ValidationError({
      message: `malformed JSON: ${(cause as Error).message}`,
      ...(where.code === undefined ? {} : { code: where.code }),
      ...(where.file === undefined ? {} : { file: where.file }),
      ...(where.line === undefined ? {} : { line: where.line }),
      ...(where.field === undefined ? {} : { field: where.field }),
      cause,
    });
  }
}
