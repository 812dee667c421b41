import { CorruptRowError } from '@xfer/core';
import type { z } from 'zod';

/** Where a value was read from, for `CorruptRowError`. */
export interface RowLocation {
  table: string;
  column: string;
  rowId: string | number;
}

/** Parse a `*_json` column and validate it with zod; anything wrong is a `CorruptRowError` naming the row. */
export function decodeJson<S extends z.ZodType>(schema: S, text: unknown, where: RowLocation): z.output<S> {
  if (typeof text !== 'string') {
    throw new CorruptRowError({
      ...where,
      message: `expected a JSON text, got ${text === null ? 'NULL' : typeof text}`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new CorruptRowError({ ...where, message: `malformed JSON: ${(cause as Error).message}`, cause });
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new CorruptRowError({
      ...where,
      message: `${issue?.message ?? 'invalid value'}${path}`,
      cause: result.error,
    });
  }
  return result.data;
}

/** A fast membership check built from a zod enum, for enum columns read in bulk. */
export class EnumColumn<T extends string> {
  private readonly allowed: ReadonlySet<string>;

  constructor(readonly schema: z.ZodEnum<{ [K in T]: K }>) {
    this.allowed = new Set(schema.options as readonly string[]);
  }

  /** The value, typed, or a `CorruptRowError` naming table, column and id. */
  decode(value: unknown, where: RowLocation): T {
    if (typeof value === 'string' && this.allowed.has(value)) return value as T;
    throw new CorruptRowError({
      ...where,
      message: `unknown value ${JSON.stringify(value)} (expected one of ${[...this.allowed].join(', ')})`,
    });
  }

  /** True when `value` is one of the enum's values (for checks on write). */
  has(value: unknown): value is T {
    return typeof value === 'string' && this.allowed.has(value);
  }
}

/** A text or integer column that must not be NULL or of the wrong type. */
export function decodeString(value: unknown, where: RowLocation): string {
  if (typeof value === 'string') return value;
  throw new CorruptRowError({
    ...where,
    message: `expected text, got ${value === null ? 'NULL' : typeof value}`,
  });
}
