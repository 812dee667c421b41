import { z } from 'zod';
import { SamplingParamsSchema } from './sampling.js';
import { OptimizerConfigSchema, PolicyLossSchema } from './v1/trainer.js';

export const LrScheduleSchema = z.object({
  kind: z.enum(['constant', 'cosine', 'linear']).default('cosine'),
  /** Warmup as a fraction of total steps (SFT: 0.1) or an absolute number of steps (RL: 10). */
  warmupRatio: z.number().min(0).max(1).optional(),
  warmupSteps: z.number().int().min(0).optional(),
  /** Final LR as a fraction of the peak for cosine/linear decay. */
  minLrRatio: z.number().min(0).max(1).default(0),
});
export type LrSchedule = z.infer<typeof LrScheduleSchema>;

/**
 * The levers of the unified surrogate loss L_{q,w,β} (PAPER.md §7.1): which distribution samples the
 * responses (q), how they are weighted (w), whether failed responses contribute negative gradients, the KL
 * coefficient β against a frozen reference, PPO-style clipping, aggregation, dynamic sampling and the
 * overlong penalty.
 */
export const LeversSchema = z.object({
  sampler: z.enum(['teacher', 'policy']),
  weights: z.enum(['uniform', 'reward', 'grpo', 'dr-grpo']),
  negatives: z.boolean(),
  /** Keep only the best-rewarded response per prompt (the paper's off-policy RL: best of n teacher samples). */
  bestOfN: z.boolean().default(false),
  loss: PolicyLossSchema,
  dynamicSampling: z
    .object({ enabled: z.boolean(), maxBatches: z.number().int().positive().default(10) })
    .default({ enabled: false, maxBatches: 10 }),
  overlong: z
    .object({ buffer: z.number().int().min(0), factor: z.number().min(0) })
    .nullable()
    .default(null),
});
export type Levers = z.infer<typeof LeversSchema>;

/** A complete training configuration: a recipe's levers plus a preset's sizes. Stored with every run. */
export const TrainingConfigSchema = z.object({
  recipe: z.string().min(1),
  preset: z.string().min(1),
  seed: z.number().int().nonnegative(),
  levers: LeversSchema,
  optimizer: OptimizerConfigSchema,
  learningRate: z.number().positive(),
  schedule: LrScheduleSchema,
  gradClip: z.number().positive().nullable(),
  /** Optimizer steps (RL) or epochs (SFT) — exactly one of them. */
  steps: z.number().int().positive().optional(),
  epochs: z.number().positive().optional(),
  /** Prompts per optimizer step (RL) or sequences per step (SFT). */
  batchSize: z.number().int().positive(),
  /** Sequences per forward/backward (gradient accumulation = batch / micro-batch). */
  microBatchSize: z.number().int().positive(),
  /** RL: responses per prompt (GRPO group size). SFT: teacher samples per query for rejection sampling. */
  samplesPerPrompt: z.number().int().positive(),
  /** RL: prompts per PPO mini-batch update (several updates per rollout batch when smaller than batchSize). */
  miniBatchSize: z.number().int().positive().optional(),
  rollout: SamplingParamsSchema.partial().default({}),
  maxSequenceLength: z.number().int().positive(),
  evalEvery: z.number().int().positive().optional(),
  checkpointEvery: z.number().int().positive(),
});
export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;
