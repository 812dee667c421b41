export {
  type NanoPretrainingOptions,
  nanoPretrainingCorpus,
  type PretrainingRecord,
  type PretrainTrainerFactory,
  runNanoPretraining,
} from './nano-pretraining.js';
export {
  type PretrainPreset,
  type PretrainPresetInput,
  PretrainPresetSchema,
  pretrainPresets,
  resolvePretrainPreset,
} from './presets.js';
export {
  type PretrainDocument,
  type PretrainOptions,
  type PretrainResult,
  type PretrainStep,
  pretrain,
  tokenizeDocuments,
} from './pretrain.js';
