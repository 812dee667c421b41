import { describe, expect, it } from 'vitest';
import { compareStdout, parseDecimal } from './compare-output.js';
import { extractCode } from './extract-code.js';
import { examplesFromStatement } from './statement-examples.js';
import { functionNameFromStarterCode, LiveCodeBenchTargetSchema } from './target.js';

describe('extractCode (evalchemy rule)', () => {
  it('takes the last fenced block', () => {
    const completion = 'First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\n```\nDone.';
    expect(extractCode(completion)).toBe('print(2)\n');
  });

  it('accepts any language tag or none, and post-processes <code> tags', () => {
    expect(extractCode('```\nx = 1\n```')).toBe('x = 1\n');
    expect(extractCode('```Python\n<code>y = 2</code> trailing\n```')).toBe('y = 2');
    // The reference's tag pattern is letters only, so a "py3" fence is not a block.
    expect(extractCode('```py3\ny = 2\n```')).toBeNull();
  });

  it('returns null without a complete fenced block', () => {
    expect(extractCode('print(1)')).toBeNull();
    expect(extractCode('```python\nprint(1)')).toBeNull();
    expect(extractCode('')).toBeNull();
  });
});

describe('compareStdout (LiveCodeBench grade_stdio)', () => {
  it('ignores surrounding whitespace and trailing spaces on lines', () => {
    expect(compareStdout('  3 \r\n4\n\n', '3\n4')).toEqual({ equal: true });
  });

  it('compares numbers as Decimals: equal values match, no tolerance', () => {
    expect(compareStdout('1.0 0.50 -0 1e2', '1 0.5 0 100').equal).toBe(true);
    expect(compareStdout('0.333', '0.3333').equal).toBe(false);
    expect(compareStdout('50000000000000001', '50000000000000000').equal).toBe(false);
  });

  it('fails on different line counts and on non-numeric differences', () => {
    expect(compareStdout('YES\nNO', 'YES')).toEqual({
      equal: false,
      reason: 'Wrong answer: mismatched output length',
    });
    expect(compareStdout('Yes', 'YES').equal).toBe(false);
  });

  it('parses Python Decimal syntax and rejects what Decimal rejects', () => {
    expect(parseDecimal('1_000.50')).toEqual({
      kind: 'finite',
      negative: false,
      digits: '10005',
      exponent: -1,
    });
    expect(parseDecimal('-Infinity')).toEqual({ kind: 'infinity', negative: true });
    expect(parseDecimal('1,5')).toBeUndefined();
    expect(compareStdout('nan', 'nan').equal).toBe(true);
    expect(compareStdout('nan 1', 'NaN 1').equal).toBe(false);
  });
});

describe('statement examples and targets', () => {
  it('parses AtCoder samples, doubled Codeforces lines and LeetCode examples', () => {
    const atcoder =
      'Sample Input 1\n\n4\r\n8 2 5 1\n\nSample Output 1\n\n3\r\n\nThe second largest...\n\nSample Input 2\n\n2\n1 2\n\nSample Output 2\n\n1';
    expect(examplesFromStatement(atcoder, 'atcoder')).toEqual([
      { input: '4\n8 2 5 1\n', output: '3', testtype: 'stdin' },
      { input: '2\n1 2\n', output: '1', testtype: 'stdin' },
    ]);
    const codeforces = 'Sample Input 1:\n2\n\nab\n\nba\n\n\n\nSample Output 1:\n\nYES\nNO\n\n\nNote\n\nText.';
    expect(examplesFromStatement(codeforces, 'codeforces')).toEqual([
      { input: '2\nab\nba\n', output: 'YES\nNO', testtype: 'stdin' },
    ]);
    const leetcode =
      'Example 1:\n\nInput: nums = [1,2], s = "a, b = c", k = 3\nOutput: [true,false]\nExplanation: ...';
    expect(examplesFromStatement(leetcode, 'leetcode')).toEqual([
      { input: '[1,2]\n"a, b = c"\n3', output: '[true,false]', testtype: 'functional' },
    ]);
  });

  it('finds the method of a starter stub and validates targets', () => {
    expect(
      functionNameFromStarterCode('class Solution:\n    def countKeyChanges(self, s: str) -> int:\n        '),
    ).toBe('countKeyChanges');
    expect(functionNameFromStarterCode('')).toBeUndefined();
    expect(LiveCodeBenchTargetSchema.safeParse({ tests: [], isStdin: true }).success).toBe(false);
  });
});
