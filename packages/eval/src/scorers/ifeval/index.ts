export {
  aggregateIfeval,
  type CompiledIfevalRecord,
  compileIfevalRecord,
  evaluateIfevalResponse,
  type IfevalMetrics,
  type IfevalRecord,
  IfevalRecordSchema,
  type IfevalResult,
  looseVariants,
  parseIfevalJsonl,
  type RecordSource,
  stripThinking,
} from './evaluate.js';
export {
  buildInstruction,
  type InstructionCheck,
  type InstructionId,
  type InstructionSource,
  instructionIds,
  isInstructionId,
} from './instructions.js';
export { detectLanguage, detectLanguages, type LanguageProbability } from './language-detector.js';
export { IFEVAL_SCORER_VERSION, ifevalItemFromRecord, ifevalScorer, scoreIfeval } from './scorer.js';
export { countSentences, countWords, splitSentencesPunkt, wordTokenize } from './text-utilities.js';
