export { Limiter } from './limiter.js';
export {
  continuationScore,
  echoPositions,
  OpenAIEngine,
  type OpenAIEngineOptions,
  type PromptPosition,
  promptLogprobPositions,
  type RetryEvent,
} from './openai-engine.js';
export {
  backoffDelay,
  defaultRetryPolicy,
  parseRetryAfter,
  RetryBudget,
  type RetryPolicy,
  seededRandom,
  type TransientReason,
} from './retry.js';
export {
  detectServerKind,
  type PromptLogprobsMode,
  type ServerKind,
  type ServerProfile,
  serverProfile,
} from './servers.js';
export * from './wire.js';
