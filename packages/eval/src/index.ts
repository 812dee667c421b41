export { answerPositionBias, chiSquarePValue, type PositionBiasReport } from './analysis/position-bias.js';
export {
  acpBench,
  acpQuestionText,
  gpqaDiamond,
  gpqaOptions,
  gpqaPrompt,
  headQa,
  mcTaco,
} from './benchmarks/choice-benchmarks.js';
export {
  aime24,
  aime25,
  evalchemyMathPrompt,
  lmEvalMathPrompt,
  math500,
  olympiadBench,
} from './benchmarks/math.js';
export {
  coqa,
  coqaGolds,
  coqaPrompt,
  haluEval,
  haluevalDocs,
  haluevalPrompt,
  ifEval,
  liveCodeBench,
} from './benchmarks/text-benchmarks.js';
export {
  type ChatTemplate,
  chatTemplateFromConfig,
  createChatTemplate,
  loadChatTemplate,
  plainTemplate,
  type RenderOptions,
  type TokenizerConfig,
  TokenizerConfigSchema,
} from './chat/chat-template.js';
export { findDataDir, requireDataDir } from './data/data-dir.js';
export {
  type CachedHubFile,
  downloadHubFile,
  type HubFile,
  type HubOptions,
  hubFileUrl,
  readHubRows,
} from './data/hub.js';
export { PythonRandom } from './data/python-random.js';
export {
  type LocatedRecord,
  parseCsvRecords,
  parseCsvRows,
  parseJsonArray,
  parseJsonLines,
  parseTsvRecords,
} from './data/read-records.js';
export * from './nano-suite/index.js';
export {
  accuracyMetrics,
  type Benchmark,
  type BenchmarkSample,
  type BenchmarkSpec,
  benchmarkVersion,
  type DecodingDefaults,
  defineBenchmark,
  type LoadOptions,
  type MultipleChoiceLayout,
  type PromptOptions,
  type SourceFormat,
} from './registry/benchmark.js';
export { toEvalBenchmark } from './registry/eval-adapter.js';
export { BenchmarkRegistry, createPaperRegistry, paperBenchmarks } from './registry/registry.js';
export * from './runner/index.js';
export * from './sandbox/index.js';
export {
  type ResponseLine,
  ResponseLineSchema,
  type ScoreResponsesResult,
  scoreResponses,
  type VerdictLine,
} from './score-responses.js';
export { acpExactMatch, acpMultiChoiceScorer, extractAcpAnswer } from './scorers/acpbench.js';
export {
  coqaScorer,
  coqaScores,
  extractCoqaAnswer,
  normalizeSquadAnswer,
  squadExact,
  squadF1,
} from './scorers/coqa.js';
export { extractGpqaLetter, gpqaLetterScorer } from './scorers/gpqa.js';
export {
  extractHaluevalJudgement,
  haluevalYesNoScorer,
  haluevalYesNoStrippedScorer,
} from './scorers/halueval.js';
export * from './scorers/ifeval/index.js';
export * from './scorers/livecodebench/index.js';
export { binaryF1, loglikelihoodScorer } from './scorers/loglikelihood.js';
export {
  allBoxedAnswers,
  extractBoxedAnswer,
  lastBoxedOnlyString,
  removeBoxed,
} from './scorers/math/boxed.js';
export { isEquivHendrycks, isEquivLmEval, stripString } from './scorers/math/hendrycks.js';
export {
  auditGraders,
  type GraderDisagreement,
  mathHendrycksScorer,
  mathLmEvalScorer,
  mathSymbolicScorer,
} from './scorers/math/math-scorers.js';
export { cleanLatex, compareSymbolic, type SymbolicComparison } from './scorers/math/symbolic.js';
export { responseFlags, type StrippedResponse, stripReasoning } from './scorers/thinking.js';
export * from './scorers/types.js';
