/** Why an attempt failed in a way worth retrying. */
export type TransientReason = 'rate-limited' | 'server-error' | 'timeout' | 'connection' | 'malformed-body';

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** Retries the engine may spend over its whole life, all requests together. */
  retryBudget: number;
  /** First backoff delay; doubles each retry. */
  baseDelayMs: number;
  /** Ceiling on one backoff delay (and on a server's `Retry-After`). */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  retryBudget: 200,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
};

/** mulberry32 (from core): reproducible jitter, like every other random choice. */
import { mulberry32 as seededRandom } from '@xfer/core';

export { seededRandom };

/**
 * Parse an HTTP `Retry-After` header: delta-seconds or an HTTP-date. Returns milliseconds to wait, or
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Backoff before retry number `retry` (1 = first retry): exponential with "equal jitter" (half fixed, half
 * random) so that many clients hitting one server spread out, capped by `maxDelayMs`. A server's
 * `Retry-After` is a floor: we never come back earlier than asked (also capped by `maxDelayMs`).
 */
export function backoffDelay(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  const floor = retryAfterMs === undefined ? 0 : Math.min(policy.maxDelayMs, retryAfterMs);
  return Math.max(jittered, floor);
}

/** The engine-wide pool of retries. */
export class RetryBudget {
  private spent = 0;
  constructor(readonly total: number) {}

  /** Take one retry from the pool; false when it is empty. */
  take(): boolean {
    if (this.spent >= this.total) return false;
    this.spent += 1;
    return true;
  }

  get used(): number {
    return this.spent;
  }
}

/** Sleep that wakes early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
