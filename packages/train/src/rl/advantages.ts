import type { Levers } from '@xfer/core';
import { ValidationError } from '@xfer/core';

/** One rollout's outcome as the driver sees it. */
export interface RolloutOutcome {
  /** Index of the prompt group this response belongs to. */
  group: number;
  reward: number;
  /** Whether the verifier judged the answer correct (negatives are the incorrect ones). */
  correct: boolean;
}

const GRPO_EPSILON = 1e-6;

/** Mean and unbiased (N−1) standard deviation, as `torch.std` in verl's GRPO advantage. */
export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 0 };
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  if (values.length === 1) return { mean, std: 0 };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Per-response sequence weight w(x, y) for each lever setting:
 * - `uniform`: 1 (SFT-style imitation of the sampled responses);
 * - `reward`: the reward itself (REINFORCE without a baseline);
 * - `grpo`: (r − mean_group) / (std_group + 1e-6), verl's `compute_grpo_outcome_advantage`;
 * - `dr-grpo`: r − mean_group (Dr. GRPO: no std scaling).
 * With `negatives: false`, incorrect responses get weight 0 (and, for GRPO, are dropped from the update),
 * which turns uniform weights into rejection-sampled SFT.
 */
export function sequenceWeights(
  outcomes: readonly RolloutOutcome[],
  levers: Pick<Levers, 'weights' | 'negatives'>,
): number[] {
  const groups = new Map<number, number[]>();
  for (const outcome of outcomes) {
    if (!Number.isFinite(outcome.reward)) {
      throw new ValidationError({ field: 'reward', message: `reward must be finite, got ${outcome.reward}` });
    }
    const rewards = groups.get(outcome.group) ?? [];
    rewards.push(outcome.reward);
    groups.set(outcome.group, rewards);
  }
  const statistics = new Map([...groups].map(([group, rewards]) => [group, meanAndStd(rewards)]));
  return outcomes.map((outcome) => {
    const { mean, std } = statistics.get(outcome.group)!;
    let weight: number;
    switch (levers.weights) {
      case 'uniform':
        weight = 1;
        break;
      case 'reward':
        weight = outcome.reward;
        break;
      case 'grpo':
        weight = (outcome.reward - mean) / (std + GRPO_EPSILON);
        break;
      case 'dr-grpo':
        weight = outcome.reward - mean;
        break;
    }
    if (!levers.negatives && !outcome.correct) return 0;
    return weight;
  });
}

/**
 * DAPO's overlong reward shaping: responses longer than `maxTokens − buffer` lose up to `factor` linearly
 * until `maxTokens`: penalty = min(−(length − (maxTokens − buffer)) / buffer · factor, 0).
 */
export function overlongPenalty(
  completionTokens: number,
  maxTokens: number,
  overlong: { buffer: number; factor: number } | null,
): number {
  if (!overlong || overlong.buffer === 0) return 0;
  const expected = maxTokens - overlong.buffer;
  const exceed = completionTokens - expected;
  return Math.min((-exceed / overlong.buffer) * overlong.factor, 0);
}

/** DAPO dynamic sampling: the groups whose rewards are not all equal (the only ones with a gradient under GRPO). */
export function informativeGroups(outcomes: readonly RolloutOutcome[]): Set<number> {
  const seen = new Map<number, { min: number; max: number }>();
  for (const outcome of outcomes) {
    const range = seen.get(outcome.group);
    if (!range) seen.set(outcome.group, { min: outcome.reward, max: outcome.reward });
    else {
      range.min = Math.min(range.min, outcome.reward);
      range.max = Math.max(range.max, outcome.reward);
    }
  }
  return new Set([...seen].filter(([, range]) => range.max > range.min).map(([group]) => group));
}

/**
 * The k3 estimator of KL(π_θ ‖ π_ref) at one token (Schulman's approximation, used by GRPO and verl's
 * `low_var_kl`): with d = log π_ref − log π_θ, k3 = exp(d) − d − 1 ≥ 0.
 */
export function k3(logprob: number, refLogprob: number): number {
  const delta = refLogprob - logprob;
  return Math.exp(delta) - delta - 1;
}

/**
 * PPO's clipped per-token objective (to be maximised) for ratio r and advantage A with asymmetric clipping:
 * min(r·A, clip(r, 1 − εlow, 1 + εhigh)·A). Returns the value and whether the clipped branch was active.
 */
export function clippedObjective(
  ratio: number,
  advantage: number,
  clip: { low: number; high: number },
): { value: number; clipped: boolean } {
  const unclipped = ratio * advantage;
  const bounded = Math.min(Math.max(ratio, 1 - clip.low), 1 + clip.high) * advantage;
  return bounded < unclipped ? { value: bounded, clipped: true } : { value: unclipped, clipped: false };
}
