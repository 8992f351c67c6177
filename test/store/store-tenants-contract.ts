/**
 * Tenants and limits, as every Store engine must have them. `open` may be called several
 * times: every store it returns must share one database (two instances open at once =
 * two replicas, where the engine allows it; close then open = a restart). Keys and ids are unique per test, so tests can share it.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState } from "../../src/core/model.js";
import { LimitExceeded, type LimitRule, type NewCall, type Store } from "../../src/store/store.js";

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export interface TenantContractOptions {
  /** Two stores may be open on the database at once (PostgreSQL replicas). */
  readonly replicas: boolean;
}

export function describeTenantContract(name: string, open: () => Promise<Store>, options: TenantContractOptions): void {
  describe(`Store contract, tenants and limits: ${name}`, () => {
    const opened: Store[] = [];
    let store: Store;
    let u: string;
    const openStore = async (): Promise<Store> => {
      const s = await open();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      store = await openStore();
      u = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    const newCall = (overrides: Partial<NewCall> = {}): NewCall => ({
      callId: `${u}-call-${randomUUID()}`,
      provider: "sandbox",
      phoneMasked: "+86138****0000",
      playTimes: 1,
      clientReference: `${u}-ref`,
      metadata: {},
      idempotencyKey: "",
      requestHash: "hash-a",
      nowMs: NOW,
      ...overrides,
    });
    const rule = (overrides: Partial<LimitRule> = {}): LimitRule => ({
      key: `n:${u}-number`,
      max: 2,
      windowMs: HOUR,
      reason: "NUMBER_HOURLY_LIMIT",
      metadata: { limit: "2", window: "1h" },
      ...overrides,
    });
    /** Resolves to the refusal, or "created". */
    const attempt = async (s: Store, call: NewCall): Promise<LimitExceeded | "created" | "replayed"> => {
      try {
        const r = await s.createCall(call);
        return r.created ? "created" : "replayed";
      } catch (err) {
        if (err instanceof LimitExceeded) return err;
        throw err;
      }
    };

    describe("tenants", () => {
      it("a call belongs to its tenant; without one, to \"default\"", async () => {
        const a = newCall({ tenant: "alpha" });
        const d = newCall();
        expect((await store.createCall(a)).call.tenant).toBe("alpha");
        expect((await store.createCall(d)).call.tenant).toBe("default");
        expect((await store.getCall(a.callId))?.tenant).toBe("alpha");
      });

      it("scopes idempotency keys per tenant: the same key in two tenants makes two calls", async () => {
        const key = `${u}-idem`;
        const a = await store.createCall(newCall({ tenant: "alpha", idempotencyKey: key }));
        const b = await store.createCall(newCall({ tenant: "beta", idempotencyKey: key }));
        expect(a.created).toBe(true);
        expect(b.created).toBe(true);
        expect(b.call.callId).not.toBe(a.call.callId);
        const again = await store.createCall(newCall({ tenant: "beta", idempotencyKey: key }));
        expect(again).toMatchObject({ created: false, sameRequest: true, call: { callId: b.call.callId } });
      });

      it("filters reference events by tenant in the store", async () => {
        const ref = `${u}-shared-ref`;
        const a = newCall({ tenant: "alpha", clientReference: ref });
        const b = newCall({ tenant: "beta", clientReference: ref });
        await store.createCall(a);
        await store.createCall(b);
        const ok = { kind: "accepted", providerCallId: "", providerCode: "0", providerText: "" } as const;
        await store.recordSendResult(a.callId, ok, NOW + 1);
        await store.recordSendResult(b.callId, ok, NOW + 2);
        const alpha = await store.listEvents({ clientReference: ref, tenant: "alpha" }, 0, 10);
        expect(alpha.map((e) => [e.callId, e.tenant, e.state])).toEqual([[a.callId, "alpha", CallState.ACCEPTED]]);
        const everyone = await store.listEvents({ clientReference: ref }, 0, 10);
        expect(everyone.map((e) => e.callId)).toEqual([a.callId, b.callId]);
      });
    });

    describe("limits", () => {
      it("lets max calls through in the window, then refuses and records nothing", async () => {
        const limits = [rule()];
        expect(await attempt(store, newCall({ limits }))).toBe("created");
        expect(await attempt(store, newCall({ limits, nowMs: NOW + 10 * MINUTE }))).toBe("created");
        const refusedCall = newCall({ limits, nowMs: NOW + 20 * MINUTE });
        const refused = await attempt(store, refusedCall);
        expect(refused).toBeInstanceOf(LimitExceeded);
        expect(await store.getCall(refusedCall.callId)).toBeUndefined();
        // Retry when the oldest counted Send leaves the hour: NOW + 60 min, asked at +20.
        expect((refused as LimitExceeded).retryAfterMs).toBe(40 * MINUTE);
        expect((refused as LimitExceeded).rule.reason).toBe("NUMBER_HOURLY_LIMIT");
        // The refusal was not counted: exactly at the oldest's exit one more fits.
        expect(await attempt(store, newCall({ limits, nowMs: NOW + HOUR - 1 }))).toBeInstanceOf(LimitExceeded);
        expect(await attempt(store, newCall({ limits, nowMs: NOW + HOUR }))).toBe("created");
      });

      it("names the rule that refused and its own retry time when several share a key", async () => {
        const limits = [
          rule({ max: 1, windowMs: MINUTE, reason: "NUMBER_MINUTE_LIMIT" }),
          rule({ max: 2, windowMs: HOUR, reason: "NUMBER_HOURLY_LIMIT" }),
        ];
        expect(await attempt(store, newCall({ limits }))).toBe("created");
        const minute = await attempt(store, newCall({ limits, nowMs: NOW + 1_000 }));
        expect(minute).toMatchObject({ rule: { reason: "NUMBER_MINUTE_LIMIT" }, retryAfterMs: MINUTE - 1_000 });
        expect(await attempt(store, newCall({ limits, nowMs: NOW + 2 * MINUTE }))).toBe("created");
        const hour = await attempt(store, newCall({ limits, nowMs: NOW + 5 * MINUTE }));
        expect(hour).toMatchObject({ rule: { reason: "NUMBER_HOURLY_LIMIT" }, retryAfterMs: HOUR - 5 * MINUTE });
      });

      it("counts every key of a Send (number and tenant) once", async () => {
        const tenantRule = rule({ key: `t:${u}`, max: 2, windowMs: HOUR, reason: "TENANT_DAILY_CAP" });
        const numberA = rule({ key: `n:${u}-a`, max: 5 });
        const numberB = rule({ key: `n:${u}-b`, max: 5 });
        expect(await attempt(store, newCall({ limits: [numberA, tenantRule] }))).toBe("created");
        expect(await attempt(store, newCall({ limits: [numberB, tenantRule] }))).toBe("created");
        expect(await attempt(store, newCall({ limits: [numberB, tenantRule] }))).toMatchObject({
          rule: { reason: "TENANT_DAILY_CAP" },
        });
      });

      it("answers an idempotent replay at the limit without counting it again", async () => {
        const limits = [rule({ max: 1 })];
        const key = `${u}-idem`;
        const first = newCall({ limits, idempotencyKey: key, tenant: "alpha" });
        expect(await attempt(store, first)).toBe("created");
        for (let i = 0; i < 3; i++) {
          expect(await attempt(store, newCall({ limits, idempotencyKey: key, tenant: "alpha" }))).toBe("replayed");
        }
        // Same key, another tenant: a new call, so it is counted (and refused).
        expect(await attempt(store, newCall({ limits, idempotencyKey: key, tenant: "beta" }))).toBeInstanceOf(
          LimitExceeded,
        );
      });

      it(`lets exactly max of N concurrent Sends through${options.replicas ? ", across two store instances" : ""}`, async () => {
        const other = options.replicas ? await openStore() : store;
        const limits = [rule({ max: 3 })];
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => attempt(i % 2 === 0 ? store : other, newCall({ limits }))),
        );
        expect(results.filter((r) => r === "created")).toHaveLength(3);
        expect(results.filter((r) => r instanceof LimitExceeded)).toHaveLength(9);
      });

      it("keeps its counts across a restart", async () => {
        const limits = [rule({ max: 1 })];
        expect(await attempt(store, newCall({ limits }))).toBe("created");
        await store.close();
        const reopened = await openStore();
        expect(await attempt(reopened, newCall({ limits, nowMs: NOW + MINUTE }))).toBeInstanceOf(LimitExceeded);
      });

      it("prunes counts no window can see without changing any answer", async () => {
        const limits = [rule({ max: 1, windowMs: MINUTE })];
        // 150 Sends, each a minute apart: every one fits, and pruning runs on each.
        for (let i = 0; i < 150; i++) {
          expect(await attempt(store, newCall({ limits, nowMs: NOW + i * MINUTE }))).toBe("created");
        }
        expect(await attempt(store, newCall({ limits, nowMs: NOW + 149 * MINUTE + 1 }))).toBeInstanceOf(
          LimitExceeded,
        );
      });
    });
  });
}
