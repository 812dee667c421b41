import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.js';
import { backoffDelay, parseRetryAfter, RetryBudget, seededRandom } from './retry.js';

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, ignores junk', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
  it('doubles per retry within [half, full] of the exponential step and caps it', () => {
    const random = seededRandom(7);
    for (let retry = 1; retry <= 8; retry++) {
      const step = Math.min(1000, 100 * 2 ** (retry - 1));
      const delay = backoffDelay(retry, policy, random);
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
    }
  });
  it('never comes back before Retry-After, but caps it', () => {
    expect(backoffDelay(1, policy, () => 0, 700)).toBe(700);
    expect(backoffDelay(1, policy, () => 0, 60_000)).toBe(1000);
  });
  it('jitter is reproducible from the seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect([c(), c(), c()]).not.toEqual(first);
  });
});

describe('RetryBudget', () => {
  it('hands out exactly its total', () => {
    const budget = new RetryBudget(2);
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
    expect(budget.used).toBe(2);
  });
});

describe('Limiter', () => {
  it('never exceeds its limit and serves waiters in order', async () => {
    const limiter = new Limiter(2);
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, index) =>
        limiter.run(async () => {
          peak = Math.max(peak, limiter.inFlight);
          order.push(index);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limiter.inFlight).toBe(0);
  });
  it('rejects a non-positive limit', () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});
