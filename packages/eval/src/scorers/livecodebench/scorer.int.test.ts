import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchmarkItem } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { requireDataDir } from '../../data/data-dir.js';
import { runProgram } from '../../sandbox/index.js';
import { createLiveCodeBenchScorer, LIVECODEBENCH_SCORER_VERSION, runTests } from './scorer.js';
import { examplesFromStatement } from './statement-examples.js';
import type { LiveCodeBenchTarget } from './target.js';

const DATA_FILE = join(requireDataDir(), 'livecodebench', 'problems_release_v5.jsonl');

interface Problem {
  question_id: string;
  question_content: string;
  platform: string;
  starter_code: string;
}

const problems = new Map(
  readFileSync(DATA_FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Problem)
    .map((problem) => [problem.question_id, problem]),
);

/** A real problem of the data file, graded on the examples of its statement (the file ships no tests). */
function itemFor(questionId: string): BenchmarkItem {
  const problem = problems.get(questionId);
  if (!problem) throw new Error(`no problem ${questionId}`);
  const tests = examplesFromStatement(problem.question_content, problem.platform);
  const target: LiveCodeBenchTarget = {
    tests,
    isStdin: tests.some((test) => test.testtype === 'stdin'),
    starterCode: problem.starter_code,
  };
  return {
    id: questionId,
    benchmark: 'livecodebench',
    input: { question: problem.question_content },
    target,
    meta: {},
  };
}

const fence = (code: string) => `Here is my solution.\n\`\`\`python\n${code}\n\`\`\`\n`;
// The official lcb_runner semantics for the solution-quality tests; the paper's evalchemy quirks are tested below.
const scorer = createLiveCodeBenchScorer({ limits: { timeoutMs: 3000 }, protocol: 'livecodebench' });
const paperScorer = createLiveCodeBenchScorer({ limits: { timeoutMs: 3000 } });

describe('LiveCodeBench scorer on real problems', () => {
  it('abc365_b (AtCoder, stdin): a correct solution passes, a wrong one gets WA', async () => {
    const item = itemFor('abc365_b');
    const correct = [
      'def main():',
      '    n = int(input())',
      '    values = list(map(int, input().split()))',
      '    order = sorted(range(n), key=lambda index: values[index])',
      '    print(order[-2] + 1)',
      '',
      'if __name__ == "__main__":',
      '    main()',
    ].join('\n');
    const accepted = await scorer.score({ item, completion: fence(correct), finishReason: 'stop' });
    expect(accepted).toMatchObject({
      grader: 'livecodebench',
      graderVersion: LIVECODEBENCH_SCORER_VERSION,
      correct: true,
      score: 1,
      details: { verdict: 'AC', testsRun: 2, testsTotal: 2, truncated: false },
    });
    const paperVerdict = await paperScorer.score({ item, completion: fence(correct) });
    expect(paperVerdict.details).toMatchObject({ verdict: 'AC', protocol: 'evalchemy' });
    const wrong =
      'n = int(input())\nvalues = list(map(int, input().split()))\nprint(values.index(max(values)) + 1)';
    const rejected = await scorer.score({ item, completion: fence(wrong) });
    expect(rejected.correct).toBe(false);
    expect(rejected.details).toMatchObject({ verdict: 'WA', testsRun: 1 });
  });

  it('1873_A (Codeforces, stdin, several lines of output)', async () => {
    const item = itemFor('1873_A');
    const correct = [
      'import sys',
      'data = sys.stdin.read().split()',
      'for word in data[1:]:',
      '    mismatches = sum(1 for a, b in zip(word, "abc") if a != b)',
      '    print("YES" if mismatches in (0, 2) else "NO")',
    ].join('\n');
    expect((await scorer.score({ item, completion: fence(correct) })).correct).toBe(true);
    const wrong =
      'import sys\nfor word in sys.stdin.read().split()[1:]:\n    print("YES" if word == "abc" else "NO")';
    expect((await scorer.score({ item, completion: fence(wrong) })).details).toMatchObject({ verdict: 'WA' });
  });

  it('3312 (LeetCode, call-based): correct, wrong, crashing and syntax-error solutions', async () => {
    const item = itemFor('3312');
    const correct = [
      'class Solution:',
      '    def countKeyChanges(self, s: str) -> int:',
      '        lowered = s.lower()',
      '        return sum(1 for a, b in zip(lowered, lowered[1:]) if a != b)',
    ].join('\n');
    const verdict = await scorer.score({ item, completion: fence(correct) });
    expect(verdict.details).toMatchObject({ verdict: 'AC', testsRun: 2 });
    const wrong =
      'class Solution:\n    def countKeyChanges(self, s: str) -> int:\n        return sum(1 for a, b in zip(s, s[1:]) if a != b)';
    expect((await scorer.score({ item, completion: fence(wrong) })).details).toMatchObject({ verdict: 'WA' });
    const crash = 'class Solution:\n    def countKeyChanges(self, s: str) -> int:\n        return s[1000]';
    expect((await scorer.score({ item, completion: fence(crash) })).details).toMatchObject({ verdict: 'RE' });
    const broken = 'class Solution:\n    def countKeyChanges(self, s: str) -> int\n        return 0';
    expect((await scorer.score({ item, completion: fence(broken) })).details).toMatchObject({
      verdict: 'CE',
    });
  });

  it('a completion without a code block is incorrect with no verdict', async () => {
    const verdict = await scorer.score({
      item: itemFor('3371'),
      completion: 'I would loop over the digits.',
      finishReason: 'length',
    });
    expect(verdict).toMatchObject({
      correct: false,
      extracted: null,
      details: { verdict: null, truncated: true },
    });
  });

  it('runs stdin programs the way the reference wraps them (module globals become locals)', async () => {
    const code = 'hits = 0\ndef bump():\n    global hits\n    hits += 1\nbump()\nprint(hits)';
    const target: LiveCodeBenchTarget = {
      tests: [{ input: '', output: '1', testtype: 'stdin' }],
      isStdin: true,
    };
    const result = await runTests(code, target, { protocol: 'livecodebench' });
    expect(result.verdict).toBe('RE');
    expect(result.tests[0]?.message).toMatch(/NameError/);
    // The paper's harness execs the file in fresh globals, so the same program passes there.
    expect((await runTests(code, target)).verdict).toBe('AC');
    // Run as a plain script, the same program is fine.
    const plain = await runProgram({ code, mode: 'stdin', input: '', protocol: 'plain' });
    expect(plain).toMatchObject({ outcome: 'ok', stdout: '1\n' });
    // The reference's import prelude is in scope too: `count` is itertools.count.
    const prelude = await runProgram({ code: 'print(count.__module__)', mode: 'stdin', input: '' });
    expect(prelude.stdout).toBe('itertools\n');
  });

  it('reports a time limit per test and keeps going when asked', async () => {
    const target: LiveCodeBenchTarget = {
      tests: [
        { input: '1\n', output: '1', testtype: 'stdin' },
        { input: '0\n', output: '0', testtype: 'stdin' },
      ],
      isStdin: true,
    };
    const code = 'n = int(input())\nwhile n == 0:\n    pass\nprint(n)';
    const result = await runTests(code, target, {
      limits: { timeoutMs: 2500 },
      stopAtFirstFailure: false,
      protocol: 'livecodebench',
    });
    expect(result.tests.map((test) => test.verdict)).toEqual(['AC', 'TLE']);
    expect(result.verdict).toBe('TLE');
    expect(result.tests[1]?.wallMs).toBeGreaterThanOrEqual(2400);
  });

  it('evalchemy (the paper default): functional tests call the first name before "(", so class Solution fails', async () => {
    const item = itemFor('3312');
    const topLevel =
      'def countKeyChanges(s: str) -> int:\n    lowered = s.lower()\n    return sum(1 for a, b in zip(lowered, lowered[1:]) if a != b)';
    expect((await paperScorer.score({ item, completion: fence(topLevel) })).details).toMatchObject({
      verdict: 'AC',
      protocol: 'evalchemy',
    });
    const classBased = [
      'class Solution:',
      '    def countKeyChanges(self, s: str) -> int:',
      '        lowered = s.lower()',
      '        return sum(1 for a, b in zip(lowered, lowered[1:]) if a != b)',
    ].join('\n');
    const verdict = await paperScorer.score({ item, completion: fence(classBased) });
    expect(verdict.details).toMatchObject({ verdict: 'RE' });
    expect(JSON.stringify(verdict.details)).toMatch(/KeyError/);
    expect((await scorer.score({ item, completion: fence(classBased) })).details).toMatchObject({
      verdict: 'AC',
    });
  });

  // Not a skipped test: the snippets below call Python's exit(), which a search for `xit(` mistakes for one.
  it('evalchemy: exact stripped output, main guard only with double quotes, exit() is a failure', async () => {
    const target: LiveCodeBenchTarget = {
      tests: [{ input: '2\n', output: '4\n', testtype: 'stdin' }],
      isStdin: true,
    };
    const run = (code: string, protocol?: 'livecodebench') =>
      runTests(code, target, protocol ? { protocol } : {});
    expect((await run('print(int(input()) * 2)')).verdict).toBe('AC');
    expect((await run('print(float(input()) * 2)')).verdict).toBe('WA');
    expect((await run('print(float(input()) * 2)', 'livecodebench')).verdict).toBe('AC');
    const doubleQuoted = 'def main():\n    print(int(input()) * 2)\nif __name__ == "__main__":\n    main()';
    expect((await run(doubleQuoted)).verdict).toBe('AC');
    expect((await run(doubleQuoted.replaceAll('"', "'"))).verdict).toBe('WA');
    expect((await run('print(int(input()) * 2)\nimport sys\nsys.exit(0)')).verdict).toBe('RE');
    expect((await run('print(int(input()) * 2)\nexit()')).verdict).toBe('RE');
    expect((await run('print(int(input()) * 2)\nexit()', 'livecodebench')).verdict).toBe('AC');
  });

  it('problem-budget timing gives slow tests what is left of (timeout + 1 s) * tests + 5 s, as the paper did', async () => {
    const target: LiveCodeBenchTarget = {
      tests: [
        { input: '1\n', output: '1', testtype: 'stdin' },
        { input: '2\n', output: '2', testtype: 'stdin' },
      ],
      isStdin: true,
    };
    const slow = 'import time\ntime.sleep(0.8)\nprint(input())';
    const perTest = await runTests(slow, target, { limits: { timeoutMs: 500 } });
    expect(perTest.tests.map((test) => test.verdict)).toEqual(['TLE']);
    const budget = await runTests(slow, target, { limits: { timeoutMs: 500 }, timing: 'problem-budget' });
    expect(budget.tests.map((test) => test.verdict)).toEqual(['AC', 'AC']);
  });
});
