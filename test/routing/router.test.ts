import { describe, expect, it } from "vitest";
import { VoiceCodeError } from "../../src/core/errors.js";
import { FailureReason } from "../../src/core/model.js";
import type { Provider, ProviderSendRequest } from "../../src/core/provider.js";
import { createProviderRegistry } from "../../src/core/providers.js";
import { createRouteTable } from "../../src/routing/route-table.js";
import { createRouter, type RouterOptions } from "../../src/routing/router.js";

function provider(name: string, check?: Provider["check"]): Provider {
  return {
    name,
    ...(check === undefined ? {} : { check }),
    send: async () => ({ kind: "accepted", providerCallId: `${name}-1`, providerCode: "0", providerText: "ok" }),
    webhook: {
      parse: () => [],
      ack: () => ({ status: 200, headers: {}, body: "" }),
      retryLater: () => ({ status: 500, headers: {}, body: "" }),
    },
  };
}

const mobilesOnly: Provider["check"] = (r) =>
  /^\+861[3-9]\d{9}$/.test(r.phoneNumber) ? undefined : { field: "phone_number", problem: "mobiles only" };

const providers = [provider("sandbox"), provider("kingsoft", mobilesOnly), provider("tencent"), provider("huawei")];
const request = (phoneNumber: string): ProviderSendRequest => ({ callId: "c", phoneNumber, code: "1234", playTimes: 2 });

function router(overrides: Partial<RouterOptions> = {}, now = () => 0) {
  return createRouter({
    registry: createProviderRegistry(providers, "sandbox"),
    table: createRouteTable([
      { prefix: "+861", providers: ["kingsoft", "tencent", "huawei"], fallback: undefined },
      { prefix: "+86", providers: ["tencent", "huawei"], fallback: undefined },
    ]),
    breaker: { failureThreshold: 2, cooldownMs: 1000 },
    rateLimits: {},
    maxRateWaitMs: 0,
    defaultFallback: { on: [FailureReason.BUSY], maxAttempts: 2, deadlineMs: 600_000 },
    now,
    ...overrides,
  });
}

const names = (ps: readonly Provider[]) => ps.map((p) => p.name);

describe("router", () => {
  it("plans the longest-prefix route and skips providers that cannot take the request", () => {
    const r = router();
    expect(names(r.plan("", request("+8613711112222")).providers)).toEqual(["kingsoft", "tencent", "huawei"]);
    // A landline under +861 (Beijing 010): kingsoft takes mobiles only.
    expect(names(r.plan("", request("+861012345678")).providers)).toEqual(["tencent", "huawei"]);
  });

  it("refuses a number without a route, naming its country code only", () => {
    const err = (() => {
      try {
        router().plan("", request("+14155550100"));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(VoiceCodeError);
    expect((err as VoiceCodeError).code).toBe("FAILED_PRECONDITION");
    expect((err as VoiceCodeError).message).toMatch(/^phone_number: no route for \+1 numbers/);
    expect((err as VoiceCodeError).message).not.toContain("4155550100");
  });

  it("pins a named provider (no failover) and names its limit when it cannot take the request", () => {
    const plan = router().plan("tencent", request("+8613711112222"));
    expect(plan).toMatchObject({ pinned: true, route: "pinned" });
    expect(names(plan.providers)).toEqual(["tencent"]);
    expect(() => router().plan("kingsoft", request("+861012345678"))).toThrow(/^phone_number: mobiles only$/);
  });

  it("sends everything to the default provider without a table", () => {
    const plan = router({ table: undefined }).plan("", request("+14155550100"));
    expect(names(plan.providers)).toEqual(["sandbox"]);
  });

  it("skips a provider whose breaker is open, then probes it after the cool-down", async () => {
    let now = 0;
    const r = router({}, () => now);
    const fault = { kind: "rejected", reason: FailureReason.INSUFFICIENT_BALANCE, providerCode: "b", providerText: "b" } as const;
    r.report("kingsoft", fault);
    r.report("kingsoft", fault);
    const plan = r.plan("", request("+8613711112222"));
    const first = await r.acquire(plan.providers);
    expect(first.provider?.name).toBe("tencent");
    expect(first.skipped).toEqual([{ provider: "kingsoft", why: "circuit open" }]);
    now = 1000;
    expect((await r.acquire(plan.providers)).provider?.name).toBe("kingsoft"); // the probe
    expect((await r.acquire(plan.providers)).provider?.name).toBe("tencent"); // one probe only
    r.report("kingsoft", { kind: "accepted", providerCallId: "k", providerCode: "0", providerText: "ok" });
    expect(r.breakerState("kingsoft")).toBe("closed");
  });

  it("moves past a provider at its rate limit, or waits briefly when allowed", async () => {
    const slept: number[] = [];
    const r = router({ rateLimits: { kingsoft: 2 }, maxRateWaitMs: 0, sleep: async (ms) => void slept.push(ms) });
    const plan = r.plan("", request("+8613711112222"));
    expect((await r.acquire(plan.providers)).provider?.name).toBe("kingsoft");
    expect((await r.acquire(plan.providers)).provider?.name).toBe("kingsoft");
    const third = await r.acquire(plan.providers);
    expect(third.provider?.name).toBe("tencent");
    expect(third.skipped).toEqual([{ provider: "kingsoft", why: "rate limited" }]);
    const patient = router({ rateLimits: { kingsoft: 2 }, maxRateWaitMs: 600, sleep: async (ms) => void slept.push(ms) });
    await patient.acquire(plan.providers);
    await patient.acquire(plan.providers);
    expect((await patient.acquire(plan.providers)).provider?.name).toBe("kingsoft");
    expect(slept).toEqual([500]);
  });
});
