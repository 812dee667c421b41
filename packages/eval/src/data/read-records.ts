import { readFile } from 'node:fs/promises';
import { parseJson, parseWith, ValidationError } from '@xfer/core';
import type { z } from 'zod';

/** A validated record and the 1-based line it started on in its file. */
export interface LocatedRecord<T> {
  value: T;
  line: number;
}

/** Read a file as UTF-8 text, turning a missing file into a ValidationError that names it. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      file,
      message: `cannot read benchmark data file: ${(cause as Error).message}`,
      cause,
    });
  }
}

/**
 * Parse JSON Lines: every non-blank line is parsed and validated; a bad line throws a ValidationError naming
 * the file, the 1-based line and the offending field.
 */
export function parseJsonLines<S extends z.ZodType>(
  text: string,
  schema: S,
  file: string,
): LocatedRecord<z.output<S>>[] {
  const records: LocatedRecord<z.output<S>>[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const line = index + 1;
    const where = { file, line, code: 'INVALID_DATA_FILE' as const };
    records.push({ value: parseWith(schema, parseJson(raw, where), where), line });
  }
  return records;
}

/**
 * Start offsets of the elements of a top-level JSON array (or of the array under a top-level object key),
 * found with a small scanner that respects strings. Used to give each element of a JSON array file a line.
 */
function topLevelElementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectingElement = false;
  for (let offset = 0; offset < text.length; offset++) {
    const character = text[offset]!;
    if (character === '\n') line++;
    if (inString) {
      if (character === '\\') offset++;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') {
      if (expectingElement && depth === 1) lines.push(line);
      expectingElement = false;
      inString = true;
      continue;
    }
    if (character === '[' || character === '{') {
      if (expectingElement && depth === 1) lines.push(line);
      expectingElement = depth === 0 && character === '[';
      depth++;
      continue;
    }
    if (character === ']' || character === '}') {
      depth--;
      continue;
    }
    if (character === ',' && depth === 1) {
      expectingElement = true;
      continue;
    }
    if (expectingElement && depth === 1 && !/\s/.test(character)) {
      lines.push(line);
      expectingElement = false;
    }
  }
  return lines;
}

/**
 * Parse a JSON file whose top level is an array of records; each element is validated and a bad one is reported
 * with the file, the line it starts on, and the field (`[index].field`).
 */
export function parseJsonArray<S extends z.ZodType>(
  text: string,
  schema: S,
  file: string,
): LocatedRecord<z.output<S>>[] {
  const parsed = parseJson(text, { file, code: 'INVALID_DATA_FILE' });
  if (!Array.isArray(parsed)) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      file,
      line: 1,
      message: 'expected a JSON array of records',
    });
  }
  const lines = topLevelElementLines(text);
  return parsed.map((element, index) => {
    const line = lines[index] ?? 1;
    return {
      value: parseWith(schema, element, { file, line, field: `[${index}]`, code: 'INVALID_DATA_FILE' }),
      line,
    };
  });
}

/**
 * RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. Returns rows with the 1-based line
 * each row starts on.
 */
export function parseCsvRows(
  text: string,
  file: string,
  delimiter = ',',
): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  const endRow = () => {
    if (cells.length > 0 || fieldStarted || cell !== '') {
      cells.push(cell);
      rows.push({ cells, line: rowLine });
    }
    cells = [];
    cell = '';
    fieldStarted = false;
  };
  for (let offset = 0; offset < text.length; offset++) {
    const character = text[offset]!;
    if (inQuotes) {
      if (character === '"') {
        if (text[offset + 1] === '"') {
          cell += '"';
          offset++;
        } else inQuotes = false;
      } else {
        if (character === '\n') line++;
        cell += character;
      }
      continue;
    }
    if (character === '"' && cell === '') {
      inQuotes = true;
      fieldStarted = true;
    } else if (character === delimiter) {
      cells.push(cell);
      cell = '';
      fieldStarted = true;
    } else if (character === '\n') {
      endRow();
      line++;
      rowLine = line;
    } else if (character === '\r' && text[offset + 1] === '\n') {
      // the \n ends the row
    } else cell += character;
  }
  if (inQuotes) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      file,
      line: rowLine,
      message: 'unterminated quoted field',
    });
  }
  endRow();
  return rows;
}

/**
 * CSV with a header row, each row validated as an object keyed by the header; a bad row names its line and
 * column.
 */
export function parseCsvRecords<S extends z.ZodType>(
  text: string,
  schema: S,
  file: string,
): LocatedRecord<z.output<S>>[] {
  const rows = parseCsvRows(text, file);
  const header = rows[0];
  if (!header)
    throw new ValidationError({ code: 'INVALID_DATA_FILE', file, line: 1, message: 'empty CSV file' });
  return rows.slice(1).map((row) => {
    if (row.cells.length !== header.cells.length) {
      throw new ValidationError({
        code: 'INVALID_DATA_FILE',
        file,
        line: row.line,
        message: `expected ${header.cells.length} columns, found ${row.cells.length}`,
      });
    }
    const object = Object.fromEntries(header.cells.map((name, index) => [name, row.cells[index]]));
    return {
      value: parseWith(schema, object, { file, line: row.line, code: 'INVALID_DATA_FILE' }),
      line: row.line,
    };
  });
}

/** Tab-separated values without quoting (MC-TACO): each line split on tabs and validated as a tuple. */
export function parseTsvRecords<S extends z.ZodType>(
  text: string,
  schema: S,
  file: string,
): LocatedRecord<z.output<S>>[] {
  const records: LocatedRecord<z.output<S>>[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const line = index + 1;
    records.push({
      value: parseWith(schema, raw.split('\t'), { file, line, code: 'INVALID_DATA_FILE' }),
      line,
    });
  }
  return records;
}
