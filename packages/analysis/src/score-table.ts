/**
 * TI from a plain table of scores (what `xfer ti --scores <file.csv>` reads).
 *
 * The CSV has a header row with `model`, `base`, an optional `method` (`rl`, `sft`...: colours the TI figure)
 * and one column per benchmark id; each row holds one model's
 * scores in percent, and `base` names the row of the model it was tuned from (empty for base models).
 * Benchmark ids map to groups through the paper's ids, a caller-supplied map (the nano suite's ids come
 * from the eval registry), or a row whose `model` cell is `#group` holding `math`, `other` or `non` per
 * benchmark column.
 *
 * @module
 */
import {
  type BenchmarkGroup,
  BenchmarkGroupSchema,
  parseJson,
  parseWith,
  ValidationError,
  type Where,
} from '@xfer/core';
import { z } from 'zod';
import { paperBenchmarkGroups, type TiOptions, type TiResult, transferabilityIndex } from './ti.js';

/** One model row of a score table. */
export interface ScoreRow {
  model: string;
  /** The name of the base row, or null for a base model. */
  base: string | null;
  /** The optional `method` column (`rl`, `sft`...), used to colour figures. */
  method?: string;
  scores: Record<string, number>;
  /** 1-based line in the source file. */
  line: number;
}

export interface ScoreTable {
  benchmarks: string[];
  rows: ScoreRow[];
  groups: Record<string, BenchmarkGroup>;
}

/** The row label that marks a group row in a score CSV. */
export const groupRowLabel = '#group';

/** Split CSV text into records (RFC 4180: quoted fields, doubled quotes, CRLF), with 1-based line numbers. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let sawContent = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line++;
        cell += char;
      }
      continue;
    }
    if (char === '"') {
      quoted = true;
      sawContent = true;
    } else if (char === ',') {
      cells.push(cell);
      cell = '';
      sawContent = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      if (sawContent || cells.some((value) => value.trim() !== '')) records.push({ line: recordLine, cells });
      cells = [];
      cell = '';
      sawContent = false;
      line++;
      recordLine = line;
    } else {
      cell += char;
      sawContent = true;
    }
  }
  if (quoted) throw new ValidationError({ line: recordLine, message: 'unterminated quoted field' });
  cells.push(cell);
  if (sawContent || cells.some((value) => value.trim() !== '')) records.push({ line: recordLine, cells });
  return records;
}

/**
 * Read a score table. `groups` adds or overrides benchmark groups (paper ids are known already); a
 * `#group` row in the file does the same. Every benchmark column must end up with a group.
 */
export function parseScoreTable(
  text: string,
  options: { file?: string; groups?: Readonly<Record<string, BenchmarkGroup>> } = {},
): ScoreTable {
  const file = options.file;
  const where = (line: number, field?: string) => ({
    ...(file === undefined ? {} : { file }),
    line,
    ...(field === undefined ? {} : { field }),
  });
  const records = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = records[0];
  if (!header)
    throw new ValidationError({ ...where(1), message: 'empty score table: expected a header row' });
  const names = header.cells.map((cell) => cell.trim());
  const modelColumn = names.indexOf('model');
  const baseColumn = names.indexOf('base');
  const methodColumn = names.indexOf('method');
  if (modelColumn < 0)
    throw new ValidationError({ ...where(header.line, 'model'), message: "missing column 'model'" });
  if (baseColumn < 0)
    throw new ValidationError({ ...where(header.line, 'base'), message: "missing column 'base'" });
  const benchmarkColumns = names
    .map((name, index) => ({ name, index }))
    .filter(({ index }) => index !== modelColumn && index !== baseColumn && index !== methodColumn);
  for (const { name } of benchmarkColumns) {
    if (name === '')
      throw new ValidationError({ ...where(header.line), message: 'a benchmark column has an empty name' });
  }
  const seenColumns = new Set<string>();
  for (const name of names) {
    if (seenColumns.has(name))
      throw new ValidationError({ ...where(header.line, name), message: 'duplicate column' });
    seenColumns.add(name);
  }
  const groups: Record<string, BenchmarkGroup> = {};
  for (const { name } of benchmarkColumns) {
    const known = paperBenchmarkGroups[name];
    if (known) groups[name] = known;
  }
  Object.assign(groups, options.groups ?? {});
  const rows: ScoreRow[] = [];
  const seenModels = new Map<string, number>();
  for (const record of records.slice(1)) {
    if (record.cells.length !== names.length) {
      throw new ValidationError({
        ...where(record.line),
        message: `expected ${names.length} cells like the header, found ${record.cells.length}`,
      });
    }
    const model = record.cells[modelColumn]!.trim();
    if (model === groupRowLabel) {
      for (const { name, index } of benchmarkColumns) {
        const value = record.cells[index]!.trim();
        if (value === '') continue;
        const parsed = BenchmarkGroupSchema.safeParse(value);
        if (!parsed.success) {
          throw new ValidationError({
            ...where(record.line, name),
            message: `group must be math, other or non, got '${value}'`,
          });
        }
        groups[name] = parsed.data;
      }
      continue;
    }
    if (model === '')
      throw new ValidationError({ ...where(record.line, 'model'), message: 'empty model name' });
    const previous = seenModels.get(model);
    if (previous !== undefined) {
      throw new ValidationError({
        ...where(record.line, 'model'),
        message: `model '${model}' already on line ${previous}`,
      });
    }
    seenModels.set(model, record.line);
    const base = record.cells[baseColumn]!.trim();
    const method = methodColumn < 0 ? '' : record.cells[methodColumn]!.trim();
    const scores: Record<string, number> = {};
    for (const { name, index } of benchmarkColumns) {
      const raw = record.cells[index]!.trim();
      const value = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(value)) {
        throw new ValidationError({
          ...where(record.line, name),
          message: `score must be a number in percent, got '${raw}'`,
        });
      }
      if (value < 0 || value > 100) {
        throw new ValidationError({
          ...where(record.line, name),
          message: `score must be within 0–100 (percent), got ${value}`,
        });
      }
      scores[name] = value;
    }
    rows.push({
      model,
      base: base === '' ? null : base,
      ...(method === '' ? {} : { method }),
      scores,
      line: record.line,
    });
  }
  for (const { name } of benchmarkColumns) {
    if (groups[name] === undefined) {
      throw new ValidationError({
        ...where(header.line, name),
        message: `benchmark '${name}' has no group: use a paper id, pass groups, or add a '${groupRowLabel}' row`,
      });
    }
  }
  for (const row of rows) {
    if (row.base !== null && !seenModels.has(row.base)) {
      throw new ValidationError({
        ...where(row.line, 'base'),
        message: `base '${row.base}' is not a model row of this table`,
      });
    }
    if (row.base === row.model) {
      throw new ValidationError({ ...where(row.line, 'base'), message: 'a model cannot be its own base' });
    }
  }
  return { benchmarks: benchmarkColumns.map(({ name }) => name), rows, groups };
}

/** TI of one tuned row of a score table. */
export interface TableTi extends TiResult {
  model: string;
  base: string;
  method?: string;
}

/** TI for every row of the table that names a base, in table order. */
export function tableTransferability(table: ScoreTable, options: TiOptions): TableTi[] {
  const byName = new Map(table.rows.map((row) => [row.model, row]));
  return table.rows
    .filter((row): row is ScoreRow & { base: string } => row.base !== null)
    .map((row) => ({
      model: row.model,
      base: row.base,
      ...(row.method === undefined ? {} : { method: row.method }),
      ...transferabilityIndex(row.scores, byName.get(row.base)!.scores, table.groups, options),
    }));
}

/** Format TI results as a fixed-width text table: ΔR per group, TI_other and TI_non per model. */
export function formatTiTable(results: readonly TableTi[]): string {
  const formula = results[0]?.formula ?? 'v1';
  const indexLabel = formula === 'v1' ? 'ΔR%' : 'DI';
  const header = [
    'model',
    'base',
    `math ${indexLabel}`,
    `other ${indexLabel}`,
    `non ${indexLabel}`,
    'TI_other',
    'TI_non',
  ];
  const number = (value: number | null, scale = 1, digits = 2) =>
    value === null ? 'n/a' : (value * scale).toFixed(digits);
  const scale = formula === 'v1' ? 100 : 1;
  const digits = formula === 'v1' ? 2 : 4;
  const lines = [
    header,
    ...results.map((result) => [
      result.model,
      result.base,
      number(result.groups.math.index, scale, digits),
      number(result.groups.other.index, scale, digits),
      number(result.groups.non.index, scale, digits),
      number(result.tiOther),
      number(result.tiNon),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A benchmark → group map (`{"nano-arith": "math"}`), validated. */
export const BenchmarkGroupMapSchema = z.record(z.string(), BenchmarkGroupSchema);

/** Parse the JSON text of a benchmark → group map, naming the file (or field) of any problem. */
export function parseBenchmarkGroups(text: string, where: Where = {}): Record<string, BenchmarkGroup> {
  return parseWith(BenchmarkGroupMapSchema, parseJson(text, where), where);
}
