import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PythonRandom } from './python-random.js';
import {
  parseCsvRecords,
  parseCsvRows,
  parseJsonArray,
  parseJsonLines,
  parseTsvRecords,
} from './read-records.js';

const Row = z.object({ name: z.string().min(1), count: z.number().int() });

function caught(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (ValidationError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('record readers name the file, line and field of a bad record', () => {
  it('JSON Lines: schema errors and malformed JSON', () => {
    const text = '{"name":"a","count":1}\n\n{"name":"b","count":"x"}\n';
    expect(caught(() => parseJsonLines(text, Row, 'data.jsonl'))).toMatchObject({
      file: 'data.jsonl',
      line: 3,
      field: 'count',
    });
    expect(caught(() => parseJsonLines('{"name":"a","count":1}\n{oops', Row, 'data.jsonl'))).toMatchObject({
      line: 2,
    });
    expect(parseJsonLines(text.split('\n')[0]!, Row, 'f')).toEqual([
      { value: { name: 'a', count: 1 }, line: 1 },
    ]);
  });

  it('JSON arrays: the line each element starts on', () => {
    const text = '[\n  {"name": "a", "count": 1},\n  {\n    "name": "", "count": 2\n  }\n]';
    expect(caught(() => parseJsonArray(text, Row, 'data.json'))).toMatchObject({
      file: 'data.json',
      line: 3,
      field: '[1].name',
    });
    const strings = '[{"name": "a, [b] {c}", "count": 1},\n{"name": "\\"q\\"", "count": 2}]';
    expect(parseJsonArray(strings, Row, 'x').map((record) => record.line)).toEqual([1, 2]);
  });

  it('CSV: quoted commas, doubled quotes and newlines; row lines count embedded newlines', () => {
    const text = 'name,count\n"a, b ""quoted""\nsecond line",1\nplain,2\r\n';
    expect(parseCsvRows(text, 'f.csv').map((row) => [row.cells, row.line])).toEqual([
      [['name', 'count'], 1],
      [['a, b "quoted"\nsecond line', '1'], 2],
      [['plain', '2'], 4],
    ]);
    const Numbers = z.object({ name: z.string(), count: z.coerce.number().int() });
    expect(caught(() => parseCsvRecords('name,count\nok,1\nbad,x\n', Numbers, 'f.csv'))).toMatchObject({
      line: 3,
      field: 'count',
    });
    expect(caught(() => parseCsvRecords('name,count\nonly-one\n', Numbers, 'f.csv'))).toMatchObject({
      line: 2,
    });
    expect(caught(() => parseCsvRows('a\n"never closed', 'f.csv'))).toMatchObject({ line: 2 });
  });

  it('TSV: tuples per line', () => {
    const Tuple = z.tuple([z.string(), z.enum(['yes', 'no'])]);
    expect(parseTsvRecords('a\tyes\nb\tno\n', Tuple, 't.tsv')).toHaveLength(2);
    expect(caught(() => parseTsvRecords('a\tyes\nb\tmaybe\n', Tuple, 't.tsv'))).toMatchObject({
      line: 2,
      field: '[1]',
    });
  });
});

describe('PythonRandom', () => {
  it('reproduces CPython random.Random(42) (reference values from CPython 3.11)', () => {
    const random = new PythonRandom(42);
    expect(random.random()).toBe(0.6394267984578837);
    expect(random.getrandbits(32)).toBe(107420369);
    expect(random.shuffle([0, 1, 2, 3])).toEqual([1, 3, 0, 2]);
    expect(new PythonRandom(2 ** 40 + 7).random()).toBe(0.6137037779936511);
  });

  it('the GPQA shuffle: the first of four always ends last', () => {
    for (let run = 0; run < 3; run++)
      expect(new PythonRandom(42).shuffle(['gold', 'x', 'y', 'z'])[3]).toBe('gold');
  });
});
