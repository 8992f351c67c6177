/**
 * A client-side token bucket per provider, so a burst does not collect the provider's
 * own rate-limit refusals (Tencent documents 20 requests/s by default). A request that
 * would wait longer than the caller allows moves on to the route's next provider.
 */
export interface RateLimiterOptions {
  /** Sustained requests per second; also the burst size. */
  readonly perSecond: number;
  readonly now: () => number;
}

export interface RateLimiter {
  /**
   * Takes a token now, or reserves the next one and returns how long to wait for it
   * (ms). Returns undefined, taking nothing, when that wait would exceed `maxWaitMs`.
   */
  reserve(maxWaitMs: number): number | undefined;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const capacity = options.perSecond;
  let tokens = capacity;
  let updatedAt = options.now();
  return {
    reserve(maxWaitMs) {
      const now = options.now();
      tokens = Math.min(capacity, tokens + ((now - updatedAt) * options.perSecond) / 1000);
      updatedAt = now;
      // Tokens may go negative: each waiter reserves its own future token.
      const waitMs = tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / options.perSecond);
      if (waitMs > maxWaitMs) return undefined;
      tokens -= 1;
      return waitMs;
    },
  };
}
