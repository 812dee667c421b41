import { describe, expect, it } from 'vitest';
import { followsInstruction } from './tasks/non.js';
import { runProgram } from './tasks/other.js';
import {
  extractChoiceLetter,
  extractLastBoxed,
  extractYesNo,
  firstAnswerLine,
  normalizeSquad,
  squadF1,
  stripThinking,
} from './verify.js';

describe('nano verifiers', () => {
  it('extracts the last boxed answer with nested braces', () => {
    expect(extractLastBoxed('\\boxed{1} then \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(extractLastBoxed('no box')).toBeNull();
    expect(extractLastBoxed('\\boxed{12')).toBeNull();
  });

  it('reads the answer after the reasoning', () => {
    expect(stripThinking('<think>\nAnswer: B\n</think>\n\nAnswer: C')).toBe('Answer: C');
    expect(firstAnswerLine('<think>x</think>\n\n  Oslo\nmore')).toBe('Oslo');
  });

  it('extracts a choice letter the ways ACPBench and GPQA answers are written', () => {
    expect(extractChoiceLetter('The answer is \\boxed{C}.')).toBe('C');
    expect(extractChoiceLetter('Answer: B')).toBe('B');
    expect(extractChoiceLetter('I think D')).toBe('D');
    expect(extractChoiceLetter('<think>A looks right</think>\nAnswer: (A)')).toBe('A');
    expect(extractChoiceLetter('none here')).toBeNull();
  });

  it('needs exactly one of Yes/No on the first line', () => {
    expect(extractYesNo('Yes')).toBe('Yes');
    expect(extractYesNo('no.')).toBe('No');
    expect(extractYesNo('Yes or no')).toBeNull();
    expect(extractYesNo('maybe\nYes')).toBeNull();
  });

  it('normalises SQuAD-style and computes token F1', () => {
    expect(normalizeSquad('A red  Kite.')).toBe('red kite');
    expect(squadF1('a red kite', 'red kite')).toBe(1);
    expect(squadF1('blue kite', 'red kite')).toBeCloseTo(0.5);
  });

  it('checks formatting instructions strictly', () => {
    expect(followsInstruction({ kind: 'repeat', word: 'sun', times: 3 }, 'sun sun sun')).toBe(true);
    expect(followsInstruction({ kind: 'repeat', word: 'sun', times: 3 }, 'sun sun')).toBe(false);
    expect(followsInstruction({ kind: 'upper', words: ['cat', 'sun'] }, 'CAT SUN')).toBe(true);
    expect(followsInstruction({ kind: 'upper', words: ['cat', 'sun'] }, 'Cat Sun')).toBe(false);
    expect(followsInstruction({ kind: 'commas', words: ['a', 'b'] }, 'a, b')).toBe(true);
    expect(followsInstruction({ kind: 'commas', words: ['a', 'b'] }, 'a b')).toBe(false);
    expect(followsInstruction({ kind: 'sorted', words: ['tree', 'cat'] }, 'cat tree')).toBe(true);
    expect(followsInstruction({ kind: 'quote', word: 'moon' }, '"moon"')).toBe(true);
  });

  it('runs straight-line programs', () => {
    const values = runProgram([
      { target: 'a', left: '4', operator: '', right: '' },
      { target: 'b', left: 'a', operator: '*', right: '3' },
      { target: 'a', left: 'b', operator: '-', right: 'a' },
    ]);
    expect(values.get('a')).toBe(8);
    expect(values.get('b')).toBe(12);
  });
});
