import { z } from 'zod';
import type { EngineV1 } from './engine.js';

/**
 * One training sequence: prompt tokens (never trained on) followed by completion tokens. Per-token arrays
 * have the completion's length.
 */
export const TrainSequenceSchema = z.object({
  promptTokenIds: z.array(z.number().int().nonnegative()),
  completionTokenIds: z.array(z.number().int().nonnegative()).min(1),
  /** Per-token weight w (1 for SFT, the advantage for GRPO). Defaults to 1. */
  weights: z.array(z.number()).optional(),
  /** Logprobs of the completion under the policy that sampled it (importance ratio, clipping). */
  oldLogprobs: z.array(z.number()).optional(),
  /** Logprobs under the frozen reference model (k3 KL). */
  refLogprobs: z.array(z.number()).optional(),
});
export type TrainSequence = z.infer<typeof TrainSequenceSchema>;

/**
 * The unified surrogate loss with levers (the paper's §5 ablation):
 * L = −agg_t[ w_t · f(ratio_t) ] + β · agg_t[ k3(π_θ, π_ref) ], where without `clip` f(r) is log π_θ
 * (cross-entropy when w = 1) and with `clip` it is PPO's min(r·w, clip(r, 1−εlow, 1+εhigh)·w) with
 * r = exp(log π_θ − old logprob).
 */
export const PolicyLossSchema = z.object({
  clip: z
    .object({ low: z.number().min(0).max(1), high: z.number().min(0) })
    .nullable()
    .default(null),
  klBeta: z.number().min(0).default(0),
  /** `token-mean` (DAPO/verl), `sequence-mean` (GRPO paper), `token-sum` (divide by a constant). */
  aggregation: z.enum(['token-mean', 'sequence-mean', 'token-sum']).default('token-mean'),
  /** Divisor for `token-sum` (Dr. GRPO uses a constant such as the max response length). */
  sumDivisor: z.number().positive().optional(),
});
export type PolicyLoss = z.infer<typeof PolicyLossSchema>;
export type PolicyLossInput = z.input<typeof PolicyLossSchema>;

export const OptimizerConfigSchema = z.object({
  kind: z.literal('adamw').default('adamw'),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  weightDecay: z.number().min(0).default(0),
});
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;

export interface ForwardBackwardResult {
  /** The loss value of this micro-batch (already aggregated). */
  loss: number;
  /** Completion tokens that carried loss. */
  tokens: number;
  /** Fraction of tokens whose ratio was clipped (0 without clipping). */
  clipFraction: number;
  /** Mean k3 KL to the reference (0 without a reference). */
  kl: number;
  /** Mean token entropy of the policy, where computed. */
  entropy?: number;
  /** Policy logprobs of every completion token, as computed in this pass. */
  logprobs: number[][];
}

export interface OptimizerStepResult {
  /** Global gradient L2 norm before clipping. */
  gradNorm: number;
  learningRate: number;
  step: number;
}

export interface CheckpointWritten {
  path: string;
  /** sha256 of `model.safetensors`. */
  sha256: string;
  bytes: number;
}

/**
 * The training seam: a stateful compute server that holds the policy, an optional frozen reference and
 * the optimizer. The driver in `@xfer/train` owns the loop; trainers do tensor math only.
 * `forwardBackward` accumulates gradients; `optimizerStep` applies and clears them (so gradient
 * accumulation is the driver's choice).
 */
export interface TrainerV1 {
  readonly specificationVersion: 'v1';
  readonly engineId: string;
  /** The policy as an engine: rollouts, scores and hidden states come from the current weights. */
  readonly policy: EngineV1;
  tokenize(texts: readonly string[]): Promise<number[][]>;
  detokenize(tokenIds: readonly number[][]): Promise<string[]>;
  /** Per-token logprobs of each completion under the policy or the frozen reference. */
  logprobs(sequences: readonly TrainSequence[], model: 'policy' | 'reference'): Promise<number[][]>;
  /**
   * Add the gradient of `scale · loss(sequences)` to the accumulated gradients. With gradient accumulation
   * the driver passes `scale` = this micro-batch's share of the batch (its tokens ÷ the batch's tokens for
   * token-mean) so the accumulated gradient equals the gradient of the whole batch's loss. Default 1.
   */
  forwardBackward(
    sequences: readonly TrainSequence[],
    loss: PolicyLoss,
    options?: { scale?: number },
  ): Promise<ForwardBackwardResult>;
  optimizerStep(options: { learningRate: number; gradClip?: number }): Promise<OptimizerStepResult>;
  /** Freeze a copy of the current policy as the KL reference. */
  snapshotReference(): Promise<void>;
  /** Write the policy (and, with `optimizer`, the optimizer state) in HF format, atomically. */
  save(directory: string, options?: { optimizer?: boolean }): Promise<CheckpointWritten>;
  load(directory: string, options?: { optimizer?: boolean }): Promise<void>;
  close(): Promise<void>;
}
