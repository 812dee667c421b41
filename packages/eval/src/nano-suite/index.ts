export {
  NANO_EVAL_ITEMS,
  NANO_SUITE_VERSION,
  type NanoBenchmarkOptions,
  nanoEvalBenchmark,
  nanoSuiteBenchmarks,
} from './benchmarks.js';
export {
  arithmeticFacts,
  buildNanoCorpus,
  type ChatRenderer,
  END_OF_TEXT,
  END_OF_TURN,
  type NanoCorpusDocument,
  type NanoCorpusOptions,
  nanoStatements,
  nanoWorkedExamples,
} from './corpus.js';
export {
  type EvaluateNanoSuiteOptions,
  evaluateNanoSuite,
  formatNanoSuiteTable,
  type NanoSuiteResult,
  type NanoTaskResult,
  wilsonInterval,
} from './evaluate.js';
export { diseases, knowledgeStatements, substances, timedEvents } from './knowledge.js';
export { hashString, mixSeed, Random } from './random.js';
export {
  getNanoTask,
  NANO_SUITE_ID,
  type NanoItemsOptions,
  nanoItems,
  nanoTasks,
  nanoTasksOfGroup,
  splitOfKey,
} from './suite.js';
export { MATH_INSTRUCTION } from './tasks/math.js';
export {
  additionWork,
  countNanoTokens,
  lastUserMessage,
  type MathProblem,
  type MathWork,
  mathWork,
  NanoTeacherEngine,
  type NanoTeacherOptions,
  parseMathProblem,
  questionOf,
  solveMathProblem,
  type TeacherMode,
  workedExample,
  writeSolution,
} from './teacher.js';
export type { NanoItemDraft, NanoSplit, NanoTask } from './types.js';
