import { ValidationError } from '@xfer/core';

/** An integer command-line option ≥ `minimum`, or undefined when absent; a bad value names the flag. */
export function integerOption(name: string, value: string | undefined, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < minimum) {
    throw new ValidationError({
      field: `--${name}`,
      message: `expected an integer ≥ ${minimum}, got '${value}'`,
    });
  }
  return parsed;
}

/** A finite number option, or undefined when absent; a bad value names the flag. */
export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new ValidationError({ field: `--${name}`, message: `expected a number, got '${value}'` });
  }
  return parsed;
}
