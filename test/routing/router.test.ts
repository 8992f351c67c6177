import { describe, expect, it } from "vitest";
import { VoiceCodeError } from "../../src/core/errors.js";
import { FailureReason } from "../../src/core/model.js";
import type { Provider, ProviderNotifyRequest, ProviderSendRequest } from "../../src/core/provider.js";
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

describe("router: notifications", () => {
  /** Places notifications only (no IVR), and checks their template like a real adapter. */
  const notifier = (name: string, kinds: readonly ("notification" | "ivr")[]): Provider => ({
    ...provider(name),
    notifies: kinds,
    checkNotify: (r) => (r.templateName === "known" ? undefined : { field: "template_name", problem: `${name} has no such template` }),
    notify: async () => ({ kind: "accepted", providerCallId: `${name}-n`, providerCode: "0", providerText: "ok" }),
  });
  const registry = createProviderRegistry(
    [provider("sandbox"), notifier("kingsoft", ["notification", "ivr"]), provider("tencent"), notifier("huawei", ["notification"])],
    "sandbox",
  );
  const note = (overrides: Partial<ProviderNotifyRequest> = {}): ProviderNotifyRequest => ({
    callId: "c",
    phoneNumber: "+8613711112222",
    templateName: "known",
    templateParams: {},
    collectKeyPress: false,
    displayNumber: undefined,
    ...overrides,
  });
  const failure = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    throw new Error("expected a refusal");
  };

  it("keeps only the route's providers that place the request's kind", () => {
    const r = router({ registry });
    expect(names(r.plan("", note()).providers)).toEqual(["kingsoft", "huawei"]);
    expect(names(r.plan("", note({ collectKeyPress: true })).providers)).toEqual(["kingsoft"]);
    // A verification call still uses every provider of the route.
    expect(names(r.plan("", request("+8613711112222")).providers)).toEqual(["kingsoft", "tencent", "huawei"]);
  });

  it("asks each capable provider's checkNotify, and says why when none can", () => {
    const err = failure(() => router({ registry }).plan("", note({ templateName: "other" })));
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("kingsoft: template_name: kingsoft has no such template") });
  });

  it("refuses a pinned or default provider without the capability as FAILED_PRECONDITION naming it", () => {
    expect(failure(() => router({ registry }).plan("tencent", note()))).toMatchObject({
      code: "FAILED_PRECONDITION",
      message: "provider: tencent places no notification calls",
    });
    expect(failure(() => router({ registry }).plan("huawei", note({ collectKeyPress: true })))).toMatchObject({
      code: "FAILED_PRECONDITION",
      message: "provider: huawei places no IVR (key press) calls",
    });
    expect(failure(() => router({ registry, table: undefined }).plan("", note()))).toMatchObject({
      code: "FAILED_PRECONDITION",
      message: "provider: sandbox (the default provider) places no notification calls",
    });
  });

  it("refuses a route where no provider places the kind, naming the route's providers", () => {
    const r = router({
      registry,
      table: createRouteTable([{ prefix: "+86", providers: ["tencent", "sandbox"], fallback: undefined }]),
    });
    expect(failure(() => r.plan("", note()))).toMatchObject({
      code: "FAILED_PRECONDITION",
      message: "provider: no provider on the route for +86 places notification calls (route: tencent, sandbox)",
    });
  });
});
