import { describe, expect, it } from 'vitest';
import { NdjsonSplitter, TailBuffer } from './framing.js';

describe('NdjsonSplitter', () => {
  it('splits on bytes, so a multi-byte character cut between chunks survives', () => {
    const overflows: number[] = [];
    const splitter = new NdjsonSplitter(1024, (bytes) => overflows.push(bytes));
    const bytes = Buffer.from('{"text":"héllo ✓"}\n{"b":2}\n{"c"', 'utf8');
    const cut = bytes.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte check mark
    expect(splitter.push(bytes.subarray(0, cut))).toEqual([]);
    expect(splitter.push(bytes.subarray(cut))).toEqual(['{"text":"héllo ✓"}', '{"b":2}']);
    expect(splitter.pendingBytes).toBe(4);
    expect(splitter.push(Buffer.from(':3}\n'))).toEqual(['{"c":3}']);
    expect(overflows).toEqual([]);
  });

  it('drops an over-long line, reports it once and resumes at the next newline', () => {
    const overflows: number[] = [];
    const splitter = new NdjsonSplitter(8, (bytes) => overflows.push(bytes));
    expect(splitter.push(Buffer.from('0123456'))).toEqual([]);
    expect(splitter.push(Buffer.from('789abcdef'))).toEqual([]);
    expect(splitter.push(Buffer.from('more\nok\n'))).toEqual(['ok']);
    expect(overflows).toEqual([16]);
    expect(splitter.pendingBytes).toBe(0);
  });
});

describe('TailBuffer', () => {
  it('keeps only the last bytes', () => {
    const tail = new TailBuffer(10);
    for (const part of ['first line\n', 'second line\n', 'third\n']) tail.push(Buffer.from(part));
    expect(tail.toString()).toBe('ine\nthird\n');
  });
});
