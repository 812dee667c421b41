import type { BenchmarkItem } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { math500, olympiadBench } from '../../benchmarks/math.js';
import { allBoxedAnswers, extractBoxedAnswer, lastBoxedOnlyString } from './boxed.js';
import { isEquivHendrycks, isEquivLmEval, stripString } from './hendrycks.js';
import { auditGraders, mathHendrycksScorer, mathLmEvalScorer, mathSymbolicScorer } from './math-scorers.js';
import { compareSymbolic } from './symbolic.js';

const item = (target: string): BenchmarkItem => ({
  id: 'x',
  benchmark: 'math-500',
  input: {},
  target,
  meta: {},
});

describe('boxed extraction', () => {
  it('takes the last complete boxed answer and matches nested braces', () => {
    expect(extractBoxedAnswer('first \\boxed{1}, then \\boxed{\\frac{1}{\\sqrt{2}}} done')).toBe(
      '\\frac{1}{\\sqrt{2}}',
    );
    expect(allBoxedAnswers('\\boxed{1} \\boxed{2} \\fbox{3}')).toEqual(['1', '2', '3']);
    expect(extractBoxedAnswer('\\boxed{\\{1,2\\}}')).toBe('\\{1,2\\}');
    expect(extractBoxedAnswer('answer \\fbox{7}')).toBe('7');
    expect(extractBoxedAnswer('so \\boxed 5$ and more')).toBe('5');
  });

  it('returns null for empty text, no box, and a truncated last box (even after a complete one)', () => {
    expect(extractBoxedAnswer('')).toBeNull();
    expect(extractBoxedAnswer('the answer is 5')).toBeNull();
    expect(extractBoxedAnswer('\\boxed{3} and finally \\boxed{\\frac{1}{2')).toBeNull();
    expect(lastBoxedOnlyString('\\boxed{')).toBeNull();
  });

  it('handles unicode and huge responses quickly', () => {
    expect(extractBoxedAnswer('réponse: \\boxed{π²/6 ≈ 1.64} ✓')).toBe('π²/6 ≈ 1.64');
    const huge = `${'x{y}z '.repeat(200_000)}\\boxed{42}`;
    const started = performance.now();
    expect(extractBoxedAnswer(huge)).toBe('42');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('Hendrycks is_equiv', () => {
  it('normalises the LaTeX variants the reference normalises', () => {
    expect(isEquivHendrycks('\\frac{1}{2}', '\\dfrac{1}{2}')).toBe(true);
    expect(isEquivHendrycks('\\frac{1}{2}', '0.5')).toBe(true);
    expect(isEquivHendrycks('\\frac{1}{2}', '\\frac12')).toBe(true);
    expect(isEquivHendrycks('\\frac{3}{4}', '3/4')).toBe(true);
    expect(isEquivHendrycks('(1,2)', '\\left( 1, 2 \\right)')).toBe(true);
    expect(isEquivHendrycks('90', '90^\\circ')).toBe(true);
    expect(isEquivHendrycks('10', '10\\%')).toBe(true);
    expect(isEquivHendrycks('5', 'x = 5')).toBe(true);
    expect(isEquivHendrycks('2\\sqrt{3}', '2\\sqrt3')).toBe(true);
    expect(isEquivHendrycks('4', '4 \\text{ cm}')).toBe(true);
  });

  it('is a string comparison, not a mathematical one', () => {
    expect(isEquivHendrycks('\\frac{\\sqrt{3}}{2}', '\\sqrt{3}/2')).toBe(false);
    expect(isEquivHendrycks('1+2x', '2x+1')).toBe(false);
    expect(isEquivHendrycks('023', '23')).toBe(false);
    expect(isEquivHendrycks(null, null)).toBe(true);
    expect(isEquivHendrycks('1', null)).toBe(false);
  });

  it('falls back to raw equality where the reference raises', () => {
    expect(() => stripString('1 \\text{ m} \\text{ s}')).toThrow();
    expect(isEquivHendrycks('1 \\text{ m} \\text{ s}', '1 \\text{ m} \\text{ s}')).toBe(true);
    expect(isEquivHendrycks('\\sqrt', '\\sqrt')).toBe(true);
  });

  it('lm-eval variant strips $, leading zeros and trailing .0', () => {
    expect(isEquivLmEval('023', '23')).toBe(true);
    expect(isEquivLmEval('$2$', '2')).toBe(true);
    expect(isEquivLmEval('5.00', '5')).toBe(true);
    expect(isEquivLmEval('5.01', '5')).toBe(false);
  });
});

describe('symbolic grader', () => {
  it.each([
    ['\\frac{\\sqrt{3}}{2}', '\\sqrt{3}/2'],
    ['1+2x', '2x+1'],
    ['x^2-1', '(x-1)(x+1)'],
    ['1000', '10^{3}'],
    ['\\frac{\\pi}{4}', '0.25\\pi'],
    ['(1,\\frac{1}{2})', '\\left(1, 0.5\\right)'],
    ['\\{1, 2\\}', '2, 1'],
    ['[0, \\infty)', '[0,\\infty)'],
    ['x = 5', '5'],
    ['10,000', '10000'],
    ['\\text{Evelyn}', 'Evelyn'],
    ['\\binom{5}{2}', '10'],
    ['2\\sqrt[3]{2}', '\\sqrt[3]{16}'],
    ['137 \\frac{1}{2}', '137.5'],
    ['2x', '2 x'],
  ])('%s equals %s', (gold, predicted) => {
    expect(compareSymbolic(gold, predicted).equal).toBe(true);
  });

  it.each([
    ['(1,2)', '(2,1)'],
    ['[0,1)', '(0,1]'],
    ['x^2', 'x^3'],
    ['\\frac{1}{3}', '0.33'],
    ['2', ''],
    ['\\text{(A)}', '\\text{(B)}'],
    ['\\frac{14}{3}', '\\frac{14}{3}1'],
    ['\\pi', '\\pi1'],
    ['(a+5)(b+2)', '(a+5)(b+2)1'],
    ['137 \\frac{1}{2}', '68.5'],
  ])('%s differs from %s', (gold, predicted) => {
    expect(compareSymbolic(gold, predicted).equal).toBe(false);
  });

  it('never throws on garbage', () => {
    for (const text of ['\\', '{{{', '}}}', '\\frac{', '√', '1/0', '\\unknown{x}', 'a'.repeat(10_000)]) {
      expect(() => compareSymbolic('1', text)).not.toThrow();
    }
  });
});

describe('math scorers', () => {
  it('strip reasoning, flag truncation and report the boxed count', () => {
    const verdict = mathHendrycksScorer.score({
      item: item('4'),
      completion: '<think>maybe \\boxed{5}</think>\n\nSo \\boxed{3} or rather \\boxed{4}',
      finishReason: 'length',
    });
    expect(verdict).toMatchObject({
      extracted: '4',
      correct: true,
      details: { truncated: true, strippedThinking: true, boxedCount: 2 },
    });
  });

  it('audits disagreements between graders', () => {
    const rows = [
      { gold: '\\frac{\\sqrt{3}}{2}', response: '\\boxed{\\sqrt{3}/2}' },
      { gold: '4', response: '\\boxed{4}' },
      { gold: '1+2x', response: '\\boxed{2x+1}' },
    ].map((row, index) => {
      const scored = item(row.gold);
      const verdicts = [mathHendrycksScorer, mathSymbolicScorer].map((scorer) =>
        scorer.score({ item: scored, completion: row.response }),
      ) as ReturnType<typeof mathHendrycksScorer.score>[];
      return { id: String(index), gold: row.gold, verdicts: verdicts as never };
    });
    const audit = auditGraders(rows);
    expect(audit.disagreements.map((row) => row.id)).toEqual(['0', '2']);
    expect(audit.counts).toEqual({ 'math-symbolic-only': 2 });
  });
});

describe('math scorers on the real MATH-500 and OlympiadBench files', () => {
  it('accept every gold answer boxed, under both graders, and reject a shifted one', async () => {
    const items = await math500.load();
    expect(items).toHaveLength(500);
    let hendrycks = 0;
    let symbolic = 0;
    let wrong = 0;
    for (const entry of items) {
      const completion = `Reasoning...\n\\boxed{${String(entry.target)}}`;
      if ((mathHendrycksScorer.score({ item: entry, completion }) as { correct: boolean }).correct)
        hendrycks++;
      if ((mathSymbolicScorer.score({ item: entry, completion }) as { correct: boolean }).correct) symbolic++;
      const shifted = `\\boxed{${String(entry.target)}+1}`;
      if ((mathSymbolicScorer.score({ item: entry, completion: shifted }) as { correct: boolean }).correct)
        wrong++;
      const appended = `\\boxed{${String(entry.target)}1}`;
      if ((mathSymbolicScorer.score({ item: entry, completion: appended }) as { correct: boolean }).correct)
        wrong++;
    }
    expect(hendrycks).toBe(500);
    expect(symbolic).toBe(500);
    expect(wrong).toBeLessThan(10);
  });

  it('grade the reference solutions (their last box) against the answer field', async () => {
    const items = await math500.load();
    const accepted = items.filter(
      (entry) =>
        (
          mathHendrycksScorer.score({ item: entry, completion: String(entry.meta.solution) }) as {
            correct: boolean;
          }
        ).correct,
    ).length;
    const symbolic = items.filter(
      (entry) =>
        (
          mathSymbolicScorer.score({ item: entry, completion: String(entry.meta.solution) }) as {
            correct: boolean;
          }
        ).correct,
    ).length;
    expect(accepted).toBeGreaterThan(480);
    expect(symbolic).toBeGreaterThanOrEqual(accepted);
  });

  it('OlympiadBench: the lm-eval grader accepts the $-wrapped gold boxed bare', async () => {
    const items = await olympiadBench.load();
    expect(items).toHaveLength(675);
    const accepted = items.filter((entry) => {
      const bare = String(entry.target).replace(/^\$|\$$/g, '');
      return (mathLmEvalScorer.score({ item: entry, completion: `\\boxed{${bare}}` }) as { correct: boolean })
        .correct;
    }).length;
    expect(accepted).toBe(675);
  });
});
