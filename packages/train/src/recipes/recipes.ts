import {
  type Levers,
  LeversSchema,
  parseWith,
  type TrainingConfig,
  type TrainingConfigInput,
  TrainingConfigSchema,
  ValidationError,
} from '@xfer/core';
import { z } from 'zod';

/** The recipe ids: the paper's three controlled-experiment variants and the §5 ablation's five. */
export const recipeIds = [
  'sft-think',
  'sft-no-think',
  'rl',
  'offpolicy-sft',
  'onpolicy-sft',
  'offpolicy-rl',
  'onpolicy-rl',
  'onpolicy-rl-nokl',
] as const;
export type RecipeId = (typeof recipeIds)[number];

export const presetIds = ['nano', 'paper', 'paper-released', 'tiny'] as const;
export type PresetId = (typeof presetIds)[number];

export const RecipeSchema = z.object({
  id: z.enum(recipeIds),
  description: z.string(),
  /** `sft`: a fixed dataset of accepted responses, epochs over it; `rl`: rollouts each step. */
  mode: z.enum(['sft', 'rl']),
  /** Teacher chat mode for teacher-sampled data. */
  teacherMode: z.enum(['think', 'no-think']).optional(),
  levers: LeversSchema,
});
export type Recipe = z.infer<typeof RecipeSchema>;

const noClip = { clip: null, klBeta: 0, aggregation: 'token-mean' as const };
const ppoClip = { clip: { low: 0.2, high: 0.28 }, aggregation: 'token-mean' as const };

/**
 * Recipes as data. Every lever of the unified loss is explicit, so a run's stored recipe says exactly what
 * was optimised (PAPER.md §3 and §7.1).
 */
export const recipes: Record<RecipeId, Recipe> = {
  'sft-think': {
    id: 'sft-think',
    description: 'SFT on rejection-sampled teacher traces in thinking mode (UniReason-think).',
    mode: 'sft',
    teacherMode: 'think',
    levers: LeversSchema.parse({ sampler: 'teacher', weights: 'uniform', negatives: false, loss: noClip }),
  },
  'sft-no-think': {
    id: 'sft-no-think',
    description: 'SFT on rejection-sampled teacher answers in non-thinking mode (UniReason-no-think).',
    mode: 'sft',
    teacherMode: 'no-think',
    levers: LeversSchema.parse({ sampler: 'teacher', weights: 'uniform', negatives: false, loss: noClip }),
  },
  rl: {
    id: 'rl',
    description:
      'GRPO (DAPO recipe as released): on-policy rollouts, group-normalised advantages, clip 0.2/0.28, no KL.',
    mode: 'rl',
    levers: LeversSchema.parse({
      sampler: 'policy',
      weights: 'grpo',
      negatives: true,
      loss: { ...ppoClip, klBeta: 0 },
      dynamicSampling: { enabled: true, maxBatches: 10 },
    }),
  },
  'offpolicy-sft': {
    id: 'offpolicy-sft',
    description: 'Ablation: SFT on teacher samples (q = teacher, w = 1, no negatives).',
    mode: 'sft',
    teacherMode: 'think',
    levers: LeversSchema.parse({ sampler: 'teacher', weights: 'uniform', negatives: false, loss: noClip }),
  },
  'onpolicy-sft': {
    id: 'onpolicy-sft',
    description: 'Ablation: SFT on the policy’s own verified samples (q = policy, w = 1, no negatives).',
    mode: 'rl',
    levers: LeversSchema.parse({ sampler: 'policy', weights: 'uniform', negatives: false, loss: noClip }),
  },
  'offpolicy-rl': {
    id: 'offpolicy-rl',
    description:
      'Ablation: n teacher samples per query, the best-rewarded one used for the gradient, advantage-weighted.',
    mode: 'rl',
    levers: LeversSchema.parse({
      sampler: 'teacher',
      weights: 'grpo',
      negatives: true,
      bestOfN: true,
      loss: { clip: null, klBeta: 0, aggregation: 'token-mean' },
    }),
  },
  'onpolicy-rl': {
    id: 'onpolicy-rl',
    description: 'Ablation: GRPO with a KL penalty to the base (k3, β = 0.001).',
    mode: 'rl',
    levers: LeversSchema.parse({
      sampler: 'policy',
      weights: 'grpo',
      negatives: true,
      loss: { ...ppoClip, klBeta: 0.001 },
    }),
  },
  'onpolicy-rl-nokl': {
    id: 'onpolicy-rl-nokl',
    description: 'Ablation: GRPO without KL.',
    mode: 'rl',
    levers: LeversSchema.parse({
      sampler: 'policy',
      weights: 'grpo',
      negatives: true,
      loss: { ...ppoClip, klBeta: 0 },
    }),
  },
};

type PresetSizes = Omit<TrainingConfigInput, 'recipe' | 'preset' | 'seed' | 'levers'>;

/** The paper's text (PAPER.md §3.3–3.4). */
const paperSizes: Record<'sft' | 'rl', PresetSizes> = {
  sft: {
    learningRate: 5e-5,
    schedule: { kind: 'cosine', warmupRatio: 0.1 },
    gradClip: 1.0,
    optimizer: { weightDecay: 0 },
    epochs: 1.5,
    batchSize: 512,
    microBatchSize: 4,
    samplesPerPrompt: 4,
    maxSequenceLength: 16384,
    checkpointEvery: 50,
  },
  rl: {
    learningRate: 1e-6,
    schedule: { kind: 'constant', warmupSteps: 10 },
    gradClip: 1.0,
    optimizer: { weightDecay: 0.1 },
    steps: 140,
    batchSize: 512,
    miniBatchSize: 128,
    microBatchSize: 4,
    samplesPerPrompt: 16,
    rollout: { temperature: 1.0, topP: 1.0, topK: -1, maxTokens: 16384 },
    maxSequenceLength: 18432,
    checkpointEvery: 5,
    evalEvery: 5,
  },
};

/** The released configs (the authors' train/README.md) where they differ from the paper's text. */
const paperReleasedSizes: Record<'sft' | 'rl', PresetSizes> = {
  sft: { ...paperSizes.sft, epochs: 2, microBatchSize: 1 },
  rl: {
    ...paperSizes.rl,
    miniBatchSize: 32,
    rollout: { ...paperSizes.rl.rollout, maxTokens: 20480 },
    maxSequenceLength: 22528,
  },
};

/**
 * Sizes per preset and mode. `paper` follows the paper's text (PAPER.md §3.3–3.4); `paper-released` the
 * released configs where they differ (SFT 2 epochs; RL mini-batch 32 prompts; max response 20,480 with an
 * overlong buffer of 4,096); `nano` is sized for a 2-core CPU; `tiny` is for tests.
 */
export const presets: Record<PresetId, Record<'sft' | 'rl', PresetSizes>> = {
  paper: paperSizes,
  'paper-released': paperReleasedSizes,
  nano: {
    sft: {
      learningRate: 1e-3,
      schedule: { kind: 'cosine', warmupRatio: 0.1 },
      gradClip: 1.0,
      optimizer: { weightDecay: 0 },
      epochs: 2,
      batchSize: 32,
      microBatchSize: 16,
      samplesPerPrompt: 2,
      maxSequenceLength: 256,
      checkpointEvery: 20,
      evalEvery: 125,
    },
    rl: {
      learningRate: 2e-4,
      schedule: { kind: 'constant', warmupSteps: 2 },
      gradClip: 1.0,
      optimizer: { weightDecay: 0.1 },
      steps: 40,
      batchSize: 16,
      miniBatchSize: 16,
      microBatchSize: 32,
      samplesPerPrompt: 8,
      // Room for the longest worked answer (125 tokens) a policy may find: truncation would score it 0.
      rollout: { temperature: 1.0, topP: 1.0, topK: -1, maxTokens: 160 },
      maxSequenceLength: 256,
      checkpointEvery: 5,
      evalEvery: 10,
    },
  },
  tiny: {
    sft: {
      learningRate: 3e-3,
      schedule: { kind: 'cosine', warmupRatio: 0.1 },
      gradClip: 1.0,
      optimizer: { weightDecay: 0 },
      epochs: 1,
      batchSize: 4,
      microBatchSize: 2,
      samplesPerPrompt: 2,
      maxSequenceLength: 128,
      checkpointEvery: 2,
    },
    rl: {
      learningRate: 1e-3,
      schedule: { kind: 'constant', warmupSteps: 1 },
      gradClip: 1.0,
      optimizer: { weightDecay: 0.1 },
      steps: 4,
      batchSize: 2,
      miniBatchSize: 2,
      microBatchSize: 4,
      samplesPerPrompt: 4,
      rollout: { temperature: 1.0, topP: 1.0, topK: -1, maxTokens: 16 },
      maxSequenceLength: 128,
      checkpointEvery: 2,
    },
  },
};

export function getRecipe(id: string): Recipe {
  const recipe = (recipes as Record<string, Recipe | undefined>)[id];
  if (!recipe) {
    throw new ValidationError({
      field: 'recipe',
      message: `unknown recipe "${id}"; known: ${recipeIds.join(', ')}`,
    });
  }
  return recipe;
}

/**
 * The full training config of a recipe at a preset, with optional overrides (validated: a bad field fails
 * naming it).
 */
export function resolveTrainingConfig(options: {
  recipe: string;
  preset?: string;
  seed?: number;
  overrides?: Record<string, unknown>;
  levers?: Partial<Levers>;
}): TrainingConfig {
  const recipe = getRecipe(options.recipe);
  const presetId = options.preset ?? 'nano';
  const preset = (presets as Record<string, Record<'sft' | 'rl', PresetSizes> | undefined>)[presetId];
  if (!preset) {
    throw new ValidationError({
      field: 'preset',
      message: `unknown preset "${presetId}"; known: ${presetIds.join(', ')}`,
    });
  }
  const input = {
    ...preset[recipe.mode],
    ...options.overrides,
    recipe: recipe.id,
    preset: presetId,
    seed: options.seed ?? 0,
    levers: { ...recipe.levers, ...options.levers },
  };
  return parseWith(TrainingConfigSchema, input, { field: 'config', code: 'INVALID_CONFIG' });
}

/** Validate a training config read from a file or the store; errors name the offending field. */
export function parseTrainingConfig(value: unknown, file?: string): TrainingConfig {
  return parseWith(TrainingConfigSchema, value, { code: 'INVALID_CONFIG', ...(file ? { file } : {}) });
}

/**
 * Whether a model trained by this recipe answers in thinking mode: one tuned on the teacher's thinking traces
 * only ever saw `<think>…</think>` before its answers, so it is evaluated with `enable_thinking` (as a Qwen3
 * thinking model is); every other recipe keeps the base's non-thinking template.
 */
export function recipeThinks(recipe: Recipe): boolean {
  return recipe.teacherMode === 'think';
}
