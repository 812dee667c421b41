import type { StoredSample } from '@xfer/store';
import type { PlannedRequest } from './plan.js';
import type { EvalProgress } from './types.js';

/**
 * Counts a run's progress. The ETA comes from tokens, not items: the tokens still expected (requests left
 * per benchmark × the mean completion length seen on that benchmark, or over all benchmarks until one is
 * seen) divided by the token rate of this process.
 */
export class ProgressTracker {
  private readonly started = performance.now();
  private readonly total: number;
  private readonly cached: number;
  private readonly remaining = new Map<string, number>();
  private readonly seen = new Map<string, { samples: number; tokens: number }>();
  private done: number;
  private sentCount = 0;
  private tokens = 0;
  private truncations = 0;

  constructor(
    private readonly runId: string,
    plan: readonly PlannedRequest[],
    found: ReadonlyMap<string, StoredSample>,
  ) {
    this.total = plan.length;
    this.cached = found.size;
    this.done = found.size;
    for (const planned of plan) {
      const benchmark = planned.benchmark.id;
      const sample = found.get(planned.requestHash);
      if (sample) {
        this.observe(benchmark, sample.completionTokens);
        if (sample.finishReason === 'length') this.truncations += 1;
      } else {
        this.remaining.set(benchmark, (this.remaining.get(benchmark) ?? 0) + 1);
      }
    }
  }

  private observe(benchmark: string, tokens: number): void {
    const entry = this.seen.get(benchmark) ?? { samples: 0, tokens: 0 };
    entry.samples += 1;
    entry.tokens += tokens;
    this.seen.set(benchmark, entry);
  }

  sent(count: number): void {
    this.sentCount += count;
  }

  finished(planned: PlannedRequest, tokens: number, truncated: boolean): void {
    const benchmark = planned.benchmark.id;
    this.done += 1;
    this.tokens += tokens;
    if (truncated) this.truncations += 1;
    this.observe(benchmark, tokens);
    this.remaining.set(benchmark, (this.remaining.get(benchmark) ?? 1) - 1);
  }

  snapshot(): EvalProgress {
    const elapsedSeconds = (performance.now() - this.started) / 1000;
    const tokensPerSecond = elapsedSeconds > 0 ? this.tokens / elapsedSeconds : 0;
    let allSamples = 0;
    let allTokens = 0;
    for (const entry of this.seen.values()) {
      allSamples += entry.samples;
      allTokens += entry.tokens;
    }
    const overall = allSamples > 0 ? allTokens / allSamples : undefined;
    let expected = 0;
    let known = true;
    for (const [benchmark, left] of this.remaining) {
      if (left <= 0) continue;
      const entry = this.seen.get(benchmark);
      const perRequest = entry && entry.samples > 0 ? entry.tokens / entry.samples : overall;
      if (perRequest === undefined) known = false;
      else expected += left * perRequest;
    }
    const etaSeconds =
      this.done >= this.total ? 0 : known && tokensPerSecond > 0 ? expected / tokensPerSecond : null;
    return {
      runId: this.runId,
      done: this.done,
      total: this.total,
      cached: this.cached,
      sent: this.sentCount,
      tokens: this.tokens,
      tokensPerSecond,
      etaSeconds,
      truncations: this.truncations,
      elapsedSeconds,
    };
  }
}
