/**
 * Send's limits with the documented defaults, on the core with an injected clock: the
 * edge of every limit, the retry delay, the destination policy, replays not counted.
 */
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SendRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { createLocalBus } from "../../src/bus/bus.js";
import type { Caller } from "../../src/core/caller.js";
import { VoiceCodeError } from "../../src/core/errors.js";
import { DEFAULT_LIMITS, type LimitsConfig } from "../../src/core/limits.js";
import { type CoreMetrics, noopCoreMetrics } from "../../src/core/metrics.js";
import type { Provider } from "../../src/core/provider.js";
import { createProviderRegistry } from "../../src/core/providers.js";
import { type VoiceCodeService, createVoiceCodeService } from "../../src/core/service.js";
import { createKeyring } from "../../src/secrets/keyring.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { testKeyring } from "../support/keyring.js";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const ALPHA: Caller = { tenant: "alpha" };
const BETA: Caller = { tenant: "beta" };

let store: Store;
let clock: number;
let providerCalls: number;
let refusals: Array<[string, string]>;

function service(limits: LimitsConfig = DEFAULT_LIMITS): VoiceCodeService {
  const provider: Provider = {
    name: "p",
    send: async () => {
      providerCalls += 1;
      return { kind: "accepted", providerCallId: `pc-${providerCalls}`, providerCode: "0", providerText: "" };
    },
    webhook: {
      parse: () => [],
      ack: () => ({ status: 200, headers: {}, body: "" }),
      retryLater: () => ({ status: 503, headers: {}, body: "" }),
    },
  };
  const metrics: CoreMetrics = {
    ...noopCoreMetrics,
    sendRefused: (tenant, reason) => refusals.push([tenant, reason]),
  };
  return createVoiceCodeService({
    store,
    bus: createLocalBus(),
    providers: createProviderRegistry([provider], "p"),
    keyring: createKeyring(randomBytes(32)),
    logger: pino({ level: "silent" }),
    metrics,
    limits,
    now: () => clock,
  });
}

beforeEach(() => {
  store = createSqliteStore({ path: ":memory:", keyring: testKeyring() });
  clock = T0;
  providerCalls = 0;
  refusals = [];
});
afterEach(() => store.close());

const req = (init: Record<string, unknown> = {}) =>
  create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", ...init });
const signal = new AbortController().signal;

async function outcome(svc: VoiceCodeService, caller: Caller, init: Record<string, unknown> = {}) {
  try {
    const r = await svc.send(req(init), signal, caller);
    return { ok: true as const, callId: r.callId, replay: r.idempotentReplay };
  } catch (err) {
    if (!(err instanceof VoiceCodeError)) throw err;
    return { ok: false as const, code: err.code, reason: err.detail?.reason, retryAfterMs: err.detail?.retryAfterMs };
  }
}

describe("per-number limits (defaults 1/1m, 5/1h, 10/1d), across tenants", () => {
  it("allows one call a minute and says when to retry", async () => {
    const svc = service();
    expect((await outcome(svc, ALPHA)).ok).toBe(true);
    clock = T0 + 15_000;
    // Another tenant, same number: counted together.
    expect(await outcome(svc, BETA)).toEqual({
      ok: false,
      code: "RESOURCE_EXHAUSTED",
      reason: "NUMBER_MINUTE_LIMIT",
      retryAfterMs: 45_000,
    });
    expect(providerCalls).toBe(1);
    expect(refusals).toEqual([["beta", "NUMBER_MINUTE_LIMIT"]]);
    clock = T0 + MINUTE;
    expect((await outcome(svc, BETA)).ok).toBe(true);
  });

  it("allows five an hour, then NUMBER_HOURLY_LIMIT until the first leaves the hour", async () => {
    const svc = service();
    for (let i = 0; i < 5; i++) {
      clock = T0 + i * MINUTE;
      expect((await outcome(svc, ALPHA)).ok).toBe(true);
    }
    clock = T0 + 5 * MINUTE;
    expect(await outcome(svc, ALPHA)).toMatchObject({ reason: "NUMBER_HOURLY_LIMIT", retryAfterMs: HOUR - 5 * MINUTE });
    clock = T0 + HOUR;
    expect((await outcome(svc, ALPHA)).ok).toBe(true);
  });

  it("allows ten a day, then NUMBER_DAILY_LIMIT", async () => {
    const svc = service();
    for (let i = 0; i < 10; i++) {
      clock = T0 + i * HOUR;
      expect((await outcome(svc, ALPHA)).ok).toBe(true);
    }
    clock = T0 + 10 * HOUR;
    expect(await outcome(svc, ALPHA)).toMatchObject({ reason: "NUMBER_DAILY_LIMIT", retryAfterMs: 14 * HOUR });
    expect(providerCalls).toBe(10);
  });

  it("lets exactly one of many concurrent Sends to one number through", async () => {
    const svc = service();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => outcome(svc, i % 2 ? ALPHA : BETA)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "NUMBER_MINUTE_LIMIT")).toHaveLength(7);
    expect(providerCalls).toBe(1);
  });

  it("does not count an idempotent replay", async () => {
    const svc = service();
    const first = await outcome(svc, ALPHA, { idempotencyKey: "k" });
    clock = T0 + 1_000;
    expect(await outcome(svc, ALPHA, { idempotencyKey: "k" })).toEqual({ ...first, replay: true });
    clock = T0 + MINUTE;
    expect((await outcome(svc, ALPHA)).ok).toBe(true);
  });
});

describe("per-tenant limits", () => {
  const tenantOnly: LimitsConfig = { ...DEFAULT_LIMITS, number: [], tenantPerSecond: 3, tenantDaily: 5 };

  it("allows the burst per second, then TENANT_RATE_LIMIT; other tenants unaffected", async () => {
    const svc = service(tenantOnly);
    const results = await Promise.all(Array.from({ length: 6 }, () => outcome(svc, ALPHA)));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.find((r) => !r.ok)).toMatchObject({ reason: "TENANT_RATE_LIMIT", retryAfterMs: 1_000 });
    expect((await outcome(svc, BETA)).ok).toBe(true);
  });

  it("caps a tenant's day with TENANT_DAILY_CAP", async () => {
    const svc = service(tenantOnly);
    for (let i = 0; i < 5; i++) {
      clock = T0 + i * HOUR;
      expect((await outcome(svc, ALPHA)).ok).toBe(true);
    }
    clock = T0 + 5 * HOUR;
    expect(await outcome(svc, ALPHA)).toMatchObject({ reason: "TENANT_DAILY_CAP", retryAfterMs: 19 * HOUR });
  });
});

describe("destination policy", () => {
  it("allows +86 only by default: PERMISSION_DENIED elsewhere, nothing recorded", async () => {
    const svc = service();
    expect(await outcome(svc, ALPHA, { phoneNumber: "+14155552671" })).toMatchObject({
      ok: false,
      code: "PERMISSION_DENIED",
      reason: "DESTINATION_COUNTRY_NOT_ALLOWED",
      retryAfterMs: undefined,
    });
    expect(providerCalls).toBe(0);
    expect(await store.listEvents({ clientReference: "" }, 0, 10)).toEqual([]);
  });

  it("refuses denied prefixes", async () => {
    const svc = service({ ...DEFAULT_LIMITS, deniedPrefixes: ["+86137"] });
    expect(await outcome(svc, ALPHA)).toMatchObject({ code: "PERMISSION_DENIED", reason: "DESTINATION_PREFIX_DENIED" });
    expect(refusals).toEqual([["alpha", "DESTINATION_PREFIX_DENIED"]]);
    expect((await outcome(svc, ALPHA, { phoneNumber: "+8613811112222" })).ok).toBe(true);
  });
});
