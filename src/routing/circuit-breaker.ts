/**
 * One breaker per provider. After `failureThreshold` consecutive provider faults (a
 * refusal on the provider's side, or a timeout/ambiguous answer) the provider is
 * skipped for `cooldownMs`; then one request probes it (half-open): success closes the
 * breaker, failure opens it for another cool-down. Per process: each replica learns on
 * its own, which is what a breaker is for (it protects this process's latency).
 */
export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly now: () => number;
  /** Called once per state change. */
  readonly onChange?: (state: BreakerState) => void;
}

export interface CircuitBreaker {
  /** May a request go now? In half-open, true for exactly one caller until it reports. */
  tryAcquire(): boolean;
  /** The request's outcome: `fault` for a provider-side failure. */
  record(fault: boolean): void;
  /** Gives back an acquired probe that was never sent (e.g. skipped by the rate limit). */
  release(): void;
  readonly state: BreakerState;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  let state: BreakerState = "closed";
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  const set = (next: BreakerState) => {
    if (next === state) return;
    state = next;
    options.onChange?.(next);
  };
  return {
    tryAcquire() {
      if (state === "open" && options.now() - openedAt >= options.cooldownMs) set("half-open");
      if (state === "closed") return true;
      if (state === "half-open" && !probing) {
        probing = true;
        return true;
      }
      return false;
    },
    record(fault) {
      if (!fault) {
        failures = 0;
        probing = false;
        set("closed");
        return;
      }
      failures += 1;
      if (state === "half-open" || failures >= options.failureThreshold) {
        probing = false;
        openedAt = options.now();
        set("open");
      }
    },
    release() {
      probing = false;
    },
    get state() {
      if (state === "open" && options.now() - openedAt >= options.cooldownMs) return "half-open";
      return state;
    },
  };
}
