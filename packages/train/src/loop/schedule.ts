import type { LrSchedule } from '@xfer/core';

/**
 * Learning rate at optimizer step `step` (0-based) of `totalSteps`: linear warmup from 0 (over
 * `warmupSteps`, or `warmupRatio · totalSteps` rounded up, as transformers' `get_cosine_schedule_with_warmup`)
 * then constant, cosine or linear decay to `minLrRatio · peak`.
 */
export function learningRateAt(schedule: LrSchedule, peak: number, step: number, totalSteps: number): number {
  const warmup = schedule.warmupSteps ?? Math.ceil((schedule.warmupRatio ?? 0) * totalSteps);
  if (warmup > 0 && step < warmup) return (peak * (step + 1)) / warmup;
  if (schedule.kind === 'constant') return peak;
  const decaySteps = Math.max(1, totalSteps - warmup);
  const progress = Math.min(1, Math.max(0, (step - warmup) / decaySteps));
  const floor = schedule.minLrRatio * peak;
  const shape = schedule.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return floor + (peak - floor) * shape;
}
