import { parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';

/**
 * A pretraining preset: the base model's architecture (engine-nano `config.json` fields, passed as they are
 * to the trainer factory), the corpus, and the optimisation. Presets are data, validated with zod.
 */
export const PretrainPresetSchema = z.object({
  name: z.string().min(1),
  /** Architecture fields as in a Qwen3 `config.json` (hidden_size, num_hidden_layers...). */
  architecture: z.record(z.string(), z.union([z.number(), z.boolean()])),
  corpus: z.object({
    /** Training items per nano task (a number for all, or per task id). */
    itemsPerTask: z.union([
      z.number().int().positive(),
      z.record(z.string(), z.number().int().nonnegative()),
    ]),
    knowledgeRepeats: z.number().int().nonnegative(),
    /** Plain-text statements per math task (`47+38=85.`), drawn from the training split with repetition. */
    statementsPerTask: z.number().int().nonnegative().default(0),
    /** Repeats of the arithmetic tables (`arithmeticFacts`: one-digit facts, times table, divisions). */
    factRepeats: z.number().int().nonnegative().default(0),
    /** Plain-text worked examples per math task (the question, then the teacher's worked solution). */
    workedPerTask: z.number().int().nonnegative().default(0),
    /** Share of the math chat items answered with the worked solution instead of the one-line result. */
    workedChatShare: z.number().min(0).max(1).default(0),
    /** Plain-text copy drills (a list of the world's names, then the same list again). */
    copyDrills: z.number().int().nonnegative().default(0),
  }),
  steps: z.number().int().positive(),
  /** Sequences per optimizer step. */
  batchSize: z.number().int().positive(),
  /** Sequences per forward/backward (gradient accumulation = batch / micro-batch). */
  microBatchSize: z.number().int().positive(),
  learningRate: z.number().positive(),
  warmupSteps: z.number().int().nonnegative(),
  /** Final learning rate of the cosine decay, as a fraction of the peak. */
  minLrRatio: z.number().min(0).max(1),
  weightDecay: z.number().min(0),
  beta1: z.number().min(0).max(1),
  beta2: z.number().min(0).max(1),
  gradClip: z.number().positive().nullable(),
  /**
   * Loss weight of prompt tokens relative to completion tokens (0: completions only). Pretraining on the
   * whole text at a lower weight gives a tiny model far more signal per step (copying, formats) than the
   * short answers alone.
   */
  promptLossWeight: z.number().min(0).max(1).default(0),
  /** Longer sequences (prompt + completion tokens) are left out of the corpus. */
  maxSequenceLength: z.number().int().positive(),
});
export type PretrainPreset = z.infer<typeof PretrainPresetSchema>;
export type PretrainPresetInput = z.input<typeof PretrainPresetSchema>;

/**
 * `nano`: the shipped `nano-base` (sized so that pretraining fits in 30 minutes on a 2-core CPU and leaves
 * every nano task between chance and perfect). `tiny`: a seconds-long smoke preset for tests.
 */
export const pretrainPresets: Readonly<Record<string, PretrainPreset>> = {
  nano: {
    name: 'nano',
    architecture: {
      vocab_size: 264,
      hidden_size: 64,
      intermediate_size: 192,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 32,
      max_position_embeddings: 256,
    },
    corpus: {
      itemsPerTask: 8000,
      knowledgeRepeats: 64,
      statementsPerTask: 15000,
      factRepeats: 60,
      workedPerTask: 15000,
      workedChatShare: 0.2,
      // copying a list back teaches the base to read from its context (blocks, passage, format)
      copyDrills: 40000,
    },
    promptLossWeight: 0.1,
    steps: 13000,
    batchSize: 32,
    microBatchSize: 32,
    learningRate: 5e-3,
    warmupSteps: 30,
    minLrRatio: 0.1,
    weightDecay: 0,
    beta1: 0.9,
    beta2: 0.95,
    gradClip: 1,
    maxSequenceLength: 256,
  },
  tiny: {
    name: 'tiny',
    architecture: {
      vocab_size: 264,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 16,
      max_position_embeddings: 256,
    },
    corpus: {
      itemsPerTask: 8,
      knowledgeRepeats: 1,
      statementsPerTask: 8,
      factRepeats: 1,
      workedPerTask: 8,
      workedChatShare: 0.5,
      copyDrills: 4,
    },
    promptLossWeight: 0.25,
    steps: 6,
    batchSize: 8,
    microBatchSize: 4,
    learningRate: 1e-2,
    warmupSteps: 2,
    minLrRatio: 0.1,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.95,
    gradClip: 1,
    maxSequenceLength: 256,
  },
};

/** A preset by name, with field overrides; a bad override throws a ValidationError naming the field. */
export function resolvePretrainPreset(
  name: string,
  overrides: Partial<PretrainPresetInput> = {},
): PretrainPreset {
  const base = pretrainPresets[name];
  if (!base) {
    throw new ValidationError({
      field: 'preset',
      message: `unknown pretraining preset "${name}" (known: ${Object.keys(pretrainPresets).join(', ')})`,
    });
  }
  return parseWith(PretrainPresetSchema, { ...base, ...overrides }, { field: 'preset' });
}
