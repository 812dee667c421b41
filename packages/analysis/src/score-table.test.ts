import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import {
  formatTiTable,
  parseBenchmarkGroups,
  parseCsv,
  parseScoreTable,
  tableTransferability,
} from './score-table.js';

function validationError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (ValidationError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, embedded newlines, CRLF and blank lines, keeping line numbers', () => {
    const records = parseCsv('a,b\r\n"x, y","say ""hi"""\r\n\r\n"multi\nline",2\n');
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"'] },
      { line: 4, cells: ['multi\nline', '2'] },
    ]);
    expect(validationError(() => parseCsv('a,"open\n')).line).toBe(1);
  });
});

describe('parseScoreTable', () => {
  const header = 'model,base,method,aime24,nano-arithmetic,ifeval';

  it('reads rows, the method column, a #group row and caller groups', () => {
    const table = parseScoreTable(`${header}\n#group,,,,math,\nb,,,10,20,30\nt,b,rl,20,25,35\n`, {
      file: 's.csv',
    });
    expect(table.benchmarks).toEqual(['aime24', 'nano-arithmetic', 'ifeval']);
    expect(table.groups).toEqual({ aime24: 'math', 'nano-arithmetic': 'math', ifeval: 'non' });
    expect(table.rows[1]).toEqual({
      model: 't',
      base: 'b',
      method: 'rl',
      scores: { aime24: 20, 'nano-arithmetic': 25, ifeval: 35 },
      line: 4,
    });
    const [result] = tableTransferability(table, { formula: 'v1' });
    // ΔR_math = (10/10 + 5/20)/2 = 0.625; ΔR_non = 5/30 = 0.1667; no other-reasoning benchmark → TI_other null
    expect(result!.groups.math.index).toBeCloseTo(0.625, 12);
    expect(result!.tiOther).toBeNull();
    expect(result!.tiNon).toBeCloseTo((5 / 30 / 0.625) * 100, 10);
    expect(formatTiTable([result!]).split('\n')[1]).toMatch(
      /^t\s+b\s+62\.50\s+n\/a\s+16\.67\s+n\/a\s+26\.67$/,
    );
  });

  it('names file, line and column of every kind of bad input', () => {
    const cases: [string, number, string | undefined, RegExp][] = [
      ['model,aime24\nb,1\n', 1, 'base', /missing column 'base'/],
      [`${header}\nb,,,10,20,30\nb,,,1,2,3\n`, 3, 'model', /already on line 2/],
      [`${header}\nb,,,10,20,30\nt,x,,1,2,3\n`, 3, 'base', /not a model row/],
      [`${header}\nb,,,10,20,130\n`, 2, 'ifeval', /within 0–100/],
      [`${header}\nb,,,10,,30\n`, 2, 'nano-arithmetic', /must be a number/],
      [`${header}\nb,,,10,20\n`, 2, undefined, /expected 6 cells/],
      [`${header}\n#group,,,,maths,\n`, 2, 'nano-arithmetic', /math, other or non/],
      [`${header}\nb,,,10,20,30\n`, 1, 'nano-arithmetic', /has no group/],
      [`${header}\nt,t,,10,20,30\n`, 2, 'base', /not a model row|own base/],
    ];
    for (const [text, line, field, message] of cases) {
      const groups: Record<string, 'math'> = message.source.includes('no group')
        ? {}
        : { 'nano-arithmetic': 'math' };
      const error = validationError(() => parseScoreTable(text, { file: 'bad.csv', groups }));
      expect(error.file).toBe('bad.csv');
      expect(error.line).toBe(line);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
    }
  });

  it('parses a group map and rejects unknown groups', () => {
    expect(parseBenchmarkGroups('{"x":"other"}')).toEqual({ x: 'other' });
    expect(validationError(() => parseBenchmarkGroups('{"x":"code"}', { file: 'g.json' })).field).toBe('x');
  });
});
