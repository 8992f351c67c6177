import { describe, expect, it } from "vitest";
import { FailureReason } from "../../src/core/model.js";
import type { SendOutcome } from "../../src/core/provider.js";
import { type BreakerState, createCircuitBreaker } from "../../src/routing/circuit-breaker.js";
import { isProviderFault, mayFailOver } from "../../src/routing/failover.js";
import { createRateLimiter } from "../../src/routing/rate-limiter.js";

const rejected = (reason: FailureReason, scope?: "number"): SendOutcome => ({
  kind: "rejected",
  reason,
  providerCode: "x",
  providerText: "x",
  ...(scope === undefined ? {} : { scope }),
});

describe("failover classification", () => {
  it("fails over only on provider-side refusals", () => {
    for (const r of [
      FailureReason.AUTH_ERROR,
      FailureReason.CONFIG_ERROR,
      FailureReason.INSUFFICIENT_BALANCE,
      FailureReason.RATE_LIMITED,
      FailureReason.PROVIDER_ERROR,
    ]) {
      expect(mayFailOver(rejected(r)), FailureReason[r]).toBe(true);
    }
    for (const r of [FailureReason.INVALID_NUMBER, FailureReason.BLOCKED, FailureReason.SUSPENDED, FailureReason.UNKNOWN]) {
      expect(mayFailOver(rejected(r)), FailureReason[r]).toBe(false);
    }
  });

  it("never fails over a number-level limit, an ambiguous answer or an acceptance", () => {
    expect(mayFailOver(rejected(FailureReason.RATE_LIMITED, "number"))).toBe(false);
    expect(mayFailOver({ kind: "ambiguous", detail: "timeout" })).toBe(false);
    expect(mayFailOver({ kind: "accepted", providerCallId: "p", providerCode: "0", providerText: "ok" })).toBe(false);
  });

  it("counts timeouts and provider-side refusals against the breaker, not number refusals", () => {
    expect(isProviderFault({ kind: "ambiguous", detail: "timeout" })).toBe(true);
    expect(isProviderFault(rejected(FailureReason.INSUFFICIENT_BALANCE))).toBe(true);
    expect(isProviderFault(rejected(FailureReason.INVALID_NUMBER))).toBe(false);
  });
});

describe("circuit breaker", () => {
  it("opens after N consecutive faults, skips, half-opens one probe, then closes", () => {
    let now = 0;
    const changes: BreakerState[] = [];
    const b = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now, onChange: (s) => changes.push(s) });
    b.record(true);
    b.record(false); // a success resets the count
    b.record(true);
    b.record(true);
    expect(b.state).toBe("closed");
    b.record(true);
    expect(b.state).toBe("open");
    expect(b.tryAcquire()).toBe(false);
    now = 999;
    expect(b.tryAcquire()).toBe(false);
    now = 1000;
    expect(b.state).toBe("half-open");
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // one probe at a time
    b.record(false);
    expect(b.state).toBe("closed");
    expect(b.tryAcquire()).toBe(true);
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  it("re-opens when the probe fails, and frees a probe that was never sent", () => {
    let now = 0;
    const b = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: () => now });
    b.record(true);
    now = 100;
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true);
    b.record(true);
    expect(b.state).toBe("open");
    now = 150;
    expect(b.tryAcquire()).toBe(false);
  });
});

describe("rate limiter", () => {
  it("lets a burst of perSecond through, then makes callers wait or move on", () => {
    let now = 0;
    const l = createRateLimiter({ perSecond: 20, now: () => now });
    for (let i = 0; i < 20; i++) expect(l.reserve(0)).toBe(0);
    expect(l.reserve(0)).toBeUndefined(); // would have to wait: move on
    expect(l.reserve(50)).toBe(50); // the next token is 50 ms away
    expect(l.reserve(50)).toBeUndefined(); // the one after is 100 ms away
    expect(l.reserve(100)).toBe(100);
    now = 1000;
    expect(l.reserve(0)).toBe(0);
  });
});
