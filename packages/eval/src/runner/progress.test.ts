import type { StoredSample } from '@xfer/store';
import { describe, expect, it, vi } from 'vitest';
import type { PlannedRequest } from './plan.js';
import { ProgressTracker } from './progress.js';

function planned(benchmark: string, index: number): PlannedRequest {
  return { requestHash: `${benchmark}-${index}`, benchmark: { id: benchmark } } as unknown as PlannedRequest;
}

describe('ProgressTracker', () => {
  it('estimates the ETA from the tokens still expected per benchmark, not from items', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      // 4 long-answer items (100 tokens each) and 4 short ones (10 tokens each); one of each is cached.
      const plan = [0, 1, 2, 3].flatMap((i) => [planned('long', i), planned('short', i)]);
      const found = new Map<string, StoredSample>([
        ['long-0', { completionTokens: 100, finishReason: 'length' } as StoredSample],
        ['short-0', { completionTokens: 10, finishReason: 'stop' } as StoredSample],
      ]);
      const tracker = new ProgressTracker('run', plan, found);
      expect(tracker.snapshot()).toMatchObject({
        done: 2,
        total: 8,
        cached: 2,
        truncations: 1,
        etaSeconds: null,
      });
      tracker.sent(2);
      vi.advanceTimersByTime(1000);
      tracker.finished(plan[2]!, 100, false); // long-1
      tracker.finished(plan[3]!, 10, true); // short-1
      const progress = tracker.snapshot();
      expect(progress.tokensPerSecond).toBeCloseTo(110, 6);
      // left: 2 long (100 each) + 2 short (10 each) = 220 tokens at 110 tokens/s
      expect(progress.etaSeconds).toBeCloseTo(2, 6);
      expect(progress).toMatchObject({ done: 4, sent: 2, tokens: 110, truncations: 2 });
    } finally {
      vi.useRealTimers();
    }
  });
});
