/**
 * @module @xfer/engine-nano — a scaled-down Qwen3 in TypeScript: forward and hand-written backward,
 * AdamW, KV-cache sampling, logprobs and ranks, hidden states, Hugging Face-format checkpoints.
 */

export {
  nanoChatTemplate,
  renderChat,
  type TokenizerConfigLike,
  tokenizerConfigJson,
} from './chat-template.js';
export {
  checkpointFiles,
  hfConfigJson,
  loadNanoCheckpoint,
  readNanoConfig,
  saveNanoCheckpoint,
} from './checkpoint.js';
export {
  countParameters,
  defaultNanoConfig,
  type NanoConfig,
  type NanoConfigInput,
  NanoConfigSchema,
  parseNanoConfig,
} from './config.js';
export { NanoEngine, type NanoEngineOptions } from './engine.js';
export { type CreateNanoEngineOptions, createNanoEngine, resolveNanoDirectory } from './factory.js';
export { nanoComputeInfo } from './kernels/backend.js';
export { cloneModel, createNanoModel, type NanoDtype, type NanoModel, tensorShapes } from './model.js';
export { SeededRandom } from './random.js';
export { decodeSafetensors, encodeSafetensors, type TensorEntry } from './safetensors.js';
export { lrAt } from './schedule.js';
export {
  byteToUnicode,
  decodeTokens,
  encodeText,
  endOfTextId,
  imEndId,
  specialTokens,
  tokenizerJson,
  tokenizerVocabSize,
  tokenStrings,
} from './tokenizer.js';
export { NanoTrainer, type NanoTrainerOptions } from './trainer.js';
