import { ValidationError, type Verdict } from '@xfer/core';
import {
  defaultSandboxLimits,
  type IsolationLevel,
  type ProgramResult,
  runProgram,
  type SandboxLimits,
  type SandboxOptions,
  type TestVerdict,
} from '../../sandbox/index.js';
import { pythonStrip } from '../ifeval/text-utilities.js';
import type { GenerativeScoreInput, GenerativeScorer } from '../types.js';
import { compareStdout } from './compare-output.js';
import { extractCode } from './extract-code.js';
import { functionNameFromStarterCode, type LiveCodeBenchTarget } from './target.js';
import { liveCodeBenchTargetFromItem } from './test-cases.js';

/** Bump whenever extraction, execution or comparison changes. */
export const LIVECODEBENCH_SCORER_VERSION = 'livecodebench-1';

/** One test's outcome. */
export interface TestResult {
  index: number;
  verdict: TestVerdict;
  wallMs: number;
  executionMs?: number;
  message?: string;
}

/** A whole problem's outcome: AC only when every test is AC (pass@1). */
export interface ProblemResult {
  verdict: TestVerdict;
  tests: TestResult[];
  isolation: IsolationLevel | undefined;
}

/** Options of {@link runTests} and {@link createLiveCodeBenchScorer}. */
export interface LiveCodeBenchOptions extends SandboxOptions {
  limits?: Partial<SandboxLimits>;
  /**
   * `evalchemy` (default): the paper's harness (evalchemy's SkyThought `testing_util`): whole stripped stdout
   * compared exactly with the stripped expected output; functional tests call the first name before `(` in
   * the code. `livecodebench`: the official `lcb_runner` (line-wise Decimal comparison,
   * `Solution().<func_name>`).
   */
  protocol?: 'evalchemy' | 'livecodebench';
  /** Stop at the first failing test, as both references do (default true). */
  stopAtFirstFailure?: boolean;
  /**
   * `per-test` (default): every test gets `limits.timeoutMs` (6 s). `problem-budget`: the paper's harness
   * semantics, one budget of `(timeout + 1 s) * tests + 5 s` for the whole problem, each test getting what is
   * left of it.
   */
  timing?: 'per-test' | 'problem-budget';
}

/** evalchemy's `prepare_test_input_output_std` expected output: stripped, cut at a trailing `-`. */
function evalchemyExpected(output: string): string {
  let expected = pythonStrip(output);
  if (expected.endsWith('-')) expected = expected.slice(0, expected.lastIndexOf('-')).replace(/\s+$/u, '');
  return expected;
}

function testVerdict(
  result: ProgramResult,
  mode: 'stdin' | 'call',
  expected: string,
  protocol: 'evalchemy' | 'livecodebench',
): { verdict: TestVerdict; message?: string } {
  if (result.outcome !== 'ok')
    return { verdict: result.outcome, ...(result.message ? { message: result.message } : {}) };
  if (mode === 'call')
    return result.passed
      ? { verdict: 'AC' }
      : { verdict: 'WA', message: `returned ${result.message ?? '?'}` };
  if (protocol === 'evalchemy') {
    return pythonStrip(result.stdout) === evalchemyExpected(expected)
      ? { verdict: 'AC' }
      : { verdict: 'WA', message: 'stripped output differs from the stripped expected output' };
  }
  const comparison = compareStdout(result.stdout, expected);
  return comparison.equal
    ? { verdict: 'AC' }
    : { verdict: 'WA', ...(comparison.reason ? { message: comparison.reason } : {}) };
}

/**
 * Run a program against a problem's tests, one sandboxed process per test, stopping at the first failure.
 * Under `evalchemy` (default) the first test's `testtype` picks stdin or functional handling, as that harness
 * does; under `livecodebench`, `target.isStdin` does.
 */
export async function runTests(
  code: string,
  target: LiveCodeBenchTarget,
  options: LiveCodeBenchOptions = {},
): Promise<ProblemResult> {
  const protocol = options.protocol ?? 'evalchemy';
  const functional = protocol === 'evalchemy' ? target.tests[0]?.testtype === 'functional' : !target.isStdin;
  const mode = functional ? 'call' : 'stdin';
  const functionName = target.functionName ?? functionNameFromStarterCode(target.starterCode ?? '');
  if (mode === 'call' && protocol === 'livecodebench' && !functionName) {
    throw new ValidationError({
      message: 'call-based problem without functionName or starterCode',
      field: 'target.functionName',
    });
  }
  const tests: TestResult[] = [];
  let isolation: IsolationLevel | undefined;
  const perTestMs = options.limits?.timeoutMs ?? defaultSandboxLimits.timeoutMs;
  let budgetMs = (perTestMs + 1000) * target.tests.length + 5000;
  for (const [index, test] of target.tests.entries()) {
    const timeoutMs = options.timing === 'problem-budget' ? Math.max(1, Math.floor(budgetMs)) : perTestMs;
    const result = await runProgram(
      {
        code,
        mode,
        input: test.input,
        protocol,
        ...(mode === 'call' ? { expectedOutput: test.output, functionName: functionName ?? '' } : {}),
        limits: { ...options.limits, timeoutMs },
      },
      options,
    );
    budgetMs -= result.wallMs;
    isolation = result.isolation;
    const { verdict, message } = testVerdict(result, mode, test.output, protocol);
    tests.push({
      index,
      verdict,
      wallMs: Math.round(result.wallMs),
      ...(result.executionMs === undefined
        ? {}
        : { executionMs: Math.round(result.executionMs * 1000) / 1000 }),
      ...(message ? { message } : {}),
    });
    if (verdict !== 'AC' && options.stopAtFirstFailure !== false) break;
  }
  const failed = tests.find((test) => test.verdict !== 'AC');
  return { verdict: failed?.verdict ?? 'AC', tests, isolation };
}

/**
 * A LiveCodeBench scorer: extract the last fenced code block (evalchemy's rule), run it against the item's
 * tests in the sandbox (`item.target` is a {@link LiveCodeBenchTarget} or the raw HF fields, see
 * {@link liveCodeBenchTargetFromItem}); `correct` only when every test passes. No code block: incorrect,
 * `details.verdict` is `null`.
 */
export function createLiveCodeBenchScorer(options: LiveCodeBenchOptions = {}): GenerativeScorer {
  return {
    kind: 'generative',
    name: 'livecodebench',
    version: LIVECODEBENCH_SCORER_VERSION,
    async score(input: GenerativeScoreInput): Promise<Verdict> {
      const target = liveCodeBenchTargetFromItem(input.item);
      const code = extractCode(input.completion);
      const truncated = input.finishReason === 'length';
      const base = { grader: 'livecodebench', graderVersion: LIVECODEBENCH_SCORER_VERSION, extracted: code };
      if (code === null) {
        return {
          ...base,
          correct: false,
          score: 0,
          details: { verdict: null, reason: 'no code block', tests: [], truncated },
        };
      }
      const result = await runTests(code, target, options);
      return {
        ...base,
        correct: result.verdict === 'AC',
        score: result.verdict === 'AC' ? 1 : 0,
        details: {
          verdict: result.verdict,
          tests: result.tests,
          testsRun: result.tests.length,
          testsTotal: target.tests.length,
          isolation: result.isolation,
          protocol: options.protocol ?? 'evalchemy',
          truncated,
        },
      };
    },
  };
}

/** The LiveCodeBench scorer with the paper's defaults (evalchemy harness, 6 s per test, stop at the first failure). */
export const liveCodeBenchScorer: GenerativeScorer = createLiveCodeBenchScorer();
