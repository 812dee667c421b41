export { compareStdout, type OutputComparison, parseDecimal } from './compare-output.js';
export { extractCode } from './extract-code.js';
export {
  createLiveCodeBenchScorer,
  LIVECODEBENCH_SCORER_VERSION,
  type LiveCodeBenchOptions,
  liveCodeBenchScorer,
  type ProblemResult,
  runTests,
  type TestResult,
} from './scorer.js';
export { examplesFromStatement } from './statement-examples.js';
export {
  functionNameFromStarterCode,
  type LiveCodeBenchTarget,
  LiveCodeBenchTargetSchema,
  type LiveCodeBenchTest,
  LiveCodeBenchTestSchema,
} from './target.js';
export { decodeTestCases, liveCodeBenchTargetFromItem, unpickleString } from './test-cases.js';
