/**
 * Attempts on both engines: failover after a refusal, outcome fallback decided durably
 * by the push that ended an attempt and claimed exactly once, pushes of earlier
 * attempts kept as stale, echo values per attempt.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CallRoute, echoFor } from "../../src/core/attempts.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import type { NewCall, SendResult, Store } from "../../src/store/store.js";

const NOW = 1_700_000_000_000;

export function describeAttemptsContract(name: string, open: () => Promise<Store>): void {
  describe(`Store attempts: ${name}`, () => {
    let store: Store;
    let u: string;
    beforeEach(async () => {
      store = await open();
      u = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await store.close();
    });

    const route = (overrides: Partial<NonNullable<CallRoute["fallback"]>> = {}): CallRoute => ({
      providers: ["alpha", "beta"],
      fallback: { on: [FailureReason.BUSY], maxAttempts: 2, deadlineAtMs: NOW + 60_000, ...overrides },
    });
    const newCall = (overrides: Partial<NewCall> = {}): NewCall => ({
      callId: `${u}-call`,
      provider: "alpha",
      phoneMasked: "+86138****0000",
      playTimes: 2,
      clientReference: `${u}-ref`,
      metadata: {},
      idempotencyKey: "",
      requestHash: "h",
      nowMs: NOW,
      ...overrides,
    });
    const accepted = (providerCallId: string): SendResult => ({
      kind: "accepted",
      providerCallId,
      providerCode: "OK",
      providerText: "accepted",
    });
    const refused: SendResult = {
      kind: "rejected",
      reason: FailureReason.INSUFFICIENT_BALANCE,
      providerCode: "NoBalance",
      providerText: "insufficient balance",
    };
    const push = (dedupe: string, state: CallState, overrides: Partial<InboundEvent> = {}): InboundEvent => ({
      dedupeKey: `${u}-${dedupe}`,
      providerCallId: `${u}-pc1`,
      callId: undefined,
      state,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: dedupe,
      providerText: dedupe,
      occurredAtMs: undefined,
      ...overrides,
    });
    const busy = (dedupe: string, overrides: Partial<InboundEvent> = {}) =>
      push(dedupe, CallState.FAILED, { failureReason: FailureReason.BUSY, ...overrides });
    const events = async (callId: string) =>
      (await store.listEvents({ callId }, 0, 100)).map((e) => [e.attempt, CallState[e.state], e.continues] as const);

    it("records the first attempt with the call", async () => {
      const call = newCall();
      await store.createCall(call);
      expect(await store.listAttempts(call.callId)).toEqual([
        expect.objectContaining({ attempt: 1, provider: "alpha", outcome: "pending", startedAtMs: NOW }),
      ]);
    });

    it("fails a refusal over: FAILED continues, the next attempt is PENDING on the next provider", async () => {
      const call = newCall();
      await store.createCall(call);
      const failed = await store.recordSendResult(call.callId, refused, NOW + 1, { attempt: 1, next: "beta" });
      expect(failed.call).toMatchObject({ attempt: 2, provider: "beta", providerCallId: "", state: CallState.PENDING, continues: false });
      expect(failed.events).toEqual([expect.objectContaining({ attempt: 1, state: CallState.FAILED, continues: true })]);
      const ok = await store.recordSendResult(call.callId, accepted(`${u}-pc2`), NOW + 2, { attempt: 2 });
      expect(ok.call).toMatchObject({ attempt: 2, provider: "beta", providerCallId: `${u}-pc2`, state: CallState.ACCEPTED });
      expect(await events(call.callId)).toEqual([
        [1, "FAILED", true],
        [2, "ACCEPTED", false],
      ]);
      expect(await store.listAttempts(call.callId)).toEqual([
        expect.objectContaining({ attempt: 1, provider: "alpha", outcome: "rejected", failureReason: FailureReason.INSUFFICIENT_BALANCE, providerCode: "NoBalance", endedAtMs: NOW + 1 }),
        expect.objectContaining({ attempt: 2, provider: "beta", outcome: "accepted", providerCallId: `${u}-pc2`, startedAtMs: NOW + 1 }),
      ]);
    });

    it("answers a Send with the call's attempts as its write left them, when it returns them at all", async () => {
      const ids = ["x", "y", "z"].map((k) => `${u}-call-${k}`);
      for (const callId of ids) await store.createCall(newCall({ callId }));
      const [x, y, z] = ids as [string, string, string];
      // At once: PostgreSQL records them as one batch.
      const first = await Promise.all([
        store.recordSendResult(x, refused, NOW + 1, { attempt: 1, next: "beta" }),
        store.recordSendResult(y, accepted(`${u}-pc-y`), NOW + 2, { attempt: 1 }),
        store.recordSendResult(z, refused, NOW + 3, { attempt: 1 }),
      ]);
      for (const [i, applied] of first.entries()) {
        if (applied.attempts !== undefined) expect(applied.attempts).toEqual(await store.listAttempts(ids[i] as string));
      }
      const second = await store.recordSendResult(x, accepted(`${u}-pc-x`), NOW + 4, { attempt: 2 });
      if (second.attempts !== undefined) expect(second.attempts).toEqual(await store.listAttempts(x));
    });

    it("refuses an answer for a superseded attempt, and keeps an ambiguous answer on its attempt", async () => {
      const call = newCall();
      await store.createCall(call);
      await store.recordSendResult(call.callId, refused, NOW + 1, { attempt: 1, next: "beta" });
      await expect(store.recordSendResult(call.callId, accepted("x"), NOW + 2, { attempt: 1 })).rejects.toThrow(/attempt/);
      await store.recordAmbiguous(call.callId, 2, "timeout after sending", NOW + 3);
      expect((await store.listAttempts(call.callId))[1]).toMatchObject({ outcome: "ambiguous", providerText: "timeout after sending", endedAtMs: undefined });
      expect(await store.getCall(call.callId)).toMatchObject({ state: CallState.PENDING, attempt: 2 });
    });

    it("decides an outcome fallback with the push that ends the attempt, once, and it is claimed once", async () => {
      const call = newCall({ route: route(), sealedRequest: "s1:sealed" });
      await store.createCall(call);
      await store.recordSendResult(call.callId, accepted(`${u}-pc1`), NOW + 1);
      const first = await store.ingest("alpha", [busy("busy")], NOW + 2);
      expect(first.appended).toEqual([expect.objectContaining({ attempt: 1, state: CallState.FAILED, continues: true })]);
      // The provider retries the same push: nothing more is decided.
      expect((await store.ingest("alpha", [busy("busy")], NOW + 3)).duplicates).toBe(1);
      // Due from the moment it was decided, not before (a configured pause).
      expect(await store.dueFallbacks(10, NOW + 1)).not.toContainEqual(expect.objectContaining({ callId: call.callId }));
      expect(await store.dueFallbacks(10, NOW + 2)).toContainEqual({ callId: call.callId, attempt: 2 });
      expect(await store.loadFallbackRequest(call.callId)).toEqual({ route: route(), sealedRequest: "s1:sealed" });

      const claims = await Promise.all([
        store.startFallback(call.callId, 2, "beta", NOW + 4),
        store.startFallback(call.callId, 2, "beta", NOW + 4),
      ]);
      expect(claims.map((c) => c.claimed).sort()).toEqual([false, true]);
      expect(await store.dueFallbacks(10, NOW + 100)).not.toContainEqual(expect.objectContaining({ callId: call.callId }));
      expect(await store.getCall(call.callId)).toMatchObject({ attempt: 2, provider: "beta", state: CallState.PENDING });

      await store.recordSendResult(call.callId, accepted(`${u}-pc2`), NOW + 5, { attempt: 2 });
      // A late push of attempt 1 is kept, not applied.
      const late = await store.ingest("alpha", [push("late", CallState.RINGING)], NOW + 6);
      expect(late).toMatchObject({ appended: [], stale: 1 });
      const done = await store.ingest("beta", [push("done", CallState.COMPLETED, { providerCallId: `${u}-pc2` })], NOW + 7);
      expect(done.appended).toEqual([expect.objectContaining({ attempt: 2, state: CallState.COMPLETED, continues: false })]);
      expect(await events(call.callId)).toEqual([
        [1, "ACCEPTED", false],
        [1, "FAILED", true],
        [2, "ACCEPTED", false],
        [2, "COMPLETED", false],
      ]);
      // Ended: the sealed request is gone.
      expect(await store.loadFallbackRequest(call.callId)).toBeUndefined();
    });

    it("decides no fallback for another reason, after the deadline, at the attempt limit, or without a provider left", async () => {
      const cases: Array<[string, Partial<NewCall>, FailureReason]> = [
        ["reason", { route: route() }, FailureReason.NO_ANSWER],
        ["deadline", { route: route({ deadlineAtMs: NOW + 2 }) }, FailureReason.BUSY],
        ["limit", { route: route({ maxAttempts: 1 }) }, FailureReason.BUSY],
        ["providers", { route: { ...route(), providers: ["alpha"] } }, FailureReason.BUSY],
        ["not opted in", { route: { providers: ["alpha", "beta"] } }, FailureReason.BUSY],
      ];
      for (const [label, overrides, reason] of cases) {
        const call = newCall({ callId: `${u}-${label}`, ...overrides, sealedRequest: "s1:x" });
        await store.createCall(call);
        await store.recordSendResult(call.callId, accepted(`${u}-${label}-pc`), NOW + 1);
        const r = await store.ingest("alpha", [push(`${label}-f`, CallState.FAILED, { providerCallId: `${u}-${label}-pc`, failureReason: reason })], NOW + 2);
        expect(r.appended.map((e) => e.continues), label).toEqual([false]);
        expect(await store.dueFallbacks(100, NOW + 100), label).not.toContainEqual(expect.objectContaining({ callId: call.callId }));
        expect(await store.loadFallbackRequest(call.callId), label).toBeUndefined();
      }
    });

    it("counts a fallback attempt against the number's limits: over the limit the claim is rolled back and can be postponed", async () => {
      const rule = { key: `n:${u}`, max: 1, windowMs: 60_000, reason: "NUMBER_MINUTE_LIMIT", metadata: {} };
      const call = newCall({ route: route(), sealedRequest: "s1:x", limits: [rule] });
      await store.createCall(call);
      await store.recordSendResult(call.callId, accepted(`${u}-pc1`), NOW + 1);
      await store.ingest("alpha", [busy("busy")], NOW + 2);
      // The Send counted once already: a second ring within the minute is refused.
      await expect(store.startFallback(call.callId, 2, "beta", NOW + 3, { limits: [rule] })).rejects.toMatchObject({
        name: "LimitExceeded",
        retryAfterMs: 60_000 - 3,
      });
      expect(await store.dueFallbacks(10, NOW + 10)).toContainEqual({ callId: call.callId, attempt: 2 });
      expect(await store.getCall(call.callId)).toMatchObject({ attempt: 1, continues: true });
      await store.postponeFallback(call.callId, 2, NOW + 60_000);
      expect(await store.dueFallbacks(10, NOW + 59_999)).not.toContainEqual(expect.objectContaining({ callId: call.callId }));
      expect(await store.dueFallbacks(10, NOW + 60_000)).toContainEqual({ callId: call.callId, attempt: 2 });
      // A minute later the attempt is placed, and counted: another Send to the number is refused.
      const placed = await store.startFallback(call.callId, 2, "beta", NOW + 60_001, { limits: [rule] });
      expect(placed.claimed).toBe(true);
      await expect(store.createCall(newCall({ callId: `${u}-next`, limits: [rule], nowMs: NOW + 60_002 }))).rejects.toMatchObject({
        name: "LimitExceeded",
      });
    });

    it("ends the call with its failure when no provider can take the next attempt", async () => {
      const call = newCall({ route: route(), sealedRequest: "s1:x" });
      await store.createCall(call);
      await store.recordSendResult(call.callId, accepted(`${u}-pc1`), NOW + 1);
      await store.ingest("alpha", [busy("busy")], NOW + 2);
      const r = await store.startFallback(call.callId, 2, undefined, NOW + 3);
      expect(r.claimed).toBe(true);
      expect(r.applied?.events).toEqual([
        expect.objectContaining({ attempt: 1, state: CallState.FAILED, failureReason: FailureReason.BUSY, continues: false }),
      ]);
      expect(await store.getCall(call.callId)).toMatchObject({ state: CallState.FAILED, continues: false, attempt: 1 });
      expect(await store.loadFallbackRequest(call.callId)).toBeUndefined();
    });

    it("matches pushes to attempts by their echo value", async () => {
      const call = newCall();
      await store.createCall(call);
      await store.recordSendResult(call.callId, refused, NOW + 1, { attempt: 1, next: "beta" });
      // Echo-only pushes (no provider id yet): attempt 2's echo applies; attempt 1's is stale.
      const r2 = await store.ingest("beta", [push("e2", CallState.DIALING, { providerCallId: "", callId: echoFor(call.callId, 2) })], NOW + 2);
      expect(r2.appended).toEqual([expect.objectContaining({ attempt: 2, state: CallState.DIALING })]);
      const r1 = await store.ingest("alpha", [push("e1", CallState.RINGING, { providerCallId: "", callId: echoFor(call.callId, 1) })], NOW + 3);
      expect(r1).toMatchObject({ appended: [], stale: 1 });
      // An echo naming an attempt another provider carried is not ours to apply.
      const wrong = await store.ingest("alpha", [push("e3", CallState.RINGING, { providerCallId: "", callId: echoFor(call.callId, 2) })], NOW + 4);
      expect(wrong).toMatchObject({ appended: [], parked: 1 });
    });
  });
}
