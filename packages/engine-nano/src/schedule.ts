import type { LrSchedule } from '@xfer/core';

/**
 * Learning rate at optimizer step `step` (0-based) of `total`, as `transformers`' schedulers compute it:
 * linear warmup from 0 over `warmupSteps` (or `warmupRatio · total`), then constant, cosine or linear decay
 * to `minLrRatio · peak` at the last step.
 */
export function lrAt(
  schedule: Pick<LrSchedule, 'kind' | 'warmupRatio' | 'warmupSteps'> & { minLrRatio?: number },
  step: number,
  total: number,
  peak = 1,
): number {
  const warmup = schedule.warmupSteps ?? Math.ceil((schedule.warmupRatio ?? 0) * total);
  if (step < warmup) return (peak * step) / Math.max(1, warmup);
  if (schedule.kind === 'constant') return peak;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  const floor = schedule.minLrRatio ?? 0;
  const shape = schedule.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return peak * (floor + (1 - floor) * shape);
}
