/**
 * Notification calls in the store, on every engine: the kind and template name are kept
 * (the parameters never reach the store), idempotency works for them as for Send, and
 * what a provider reports beyond the state (key press, duration, answer and end times)
 * is kept on the event that carries it, also when the push was parked first.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import type { NewCall, Store } from "../../src/store/store.js";

const NOW = 1_700_000_000_000;

export function describeNotifyStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract, notifications: ${name}`, () => {
    let store: Store;
    let u: string;

    beforeEach(async () => {
      store = await open();
      u = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await store.close();
    });

    const newCall = (overrides: Partial<NewCall> = {}): NewCall => ({
      callId: `${u}-call-${randomUUID()}`,
      kind: "ivr",
      templateName: "delivery",
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

    const final = (providerCallId: string, overrides: Partial<InboundEvent> = {}): InboundEvent => ({
      dedupeKey: `${u}-${providerCallId}-final`,
      providerCallId,
      callId: undefined,
      state: CallState.COMPLETED,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: "SUCCESS",
      providerText: "ok",
      occurredAtMs: NOW + 30_000,
      details: { pressedKey: "1", durationSeconds: 19, answeredAtMs: NOW + 10_000, endedAtMs: NOW + 30_000 },
      ...overrides,
    });

    it("keeps the kind and the template name, and reads a verification call's as defaults", async () => {
      const ivr = newCall();
      const created = await store.createCall(ivr);
      expect(created.call).toMatchObject({ kind: "ivr", templateName: "delivery" });
      expect(await store.getCall(ivr.callId)).toMatchObject({ kind: "ivr", templateName: "delivery" });
      const plain = newCall({ kind: undefined, templateName: undefined });
      await store.createCall(plain);
      expect(await store.getCall(plain.callId)).toMatchObject({ kind: "verification", templateName: "" });
    });

    it("answers a repeated idempotency key with the notification call, and tells a different request", async () => {
      const first = newCall({ idempotencyKey: `${u}-key`, kind: "notification" });
      expect((await store.createCall(first)).created).toBe(true);
      const again = await store.createCall({ ...first, callId: `${u}-other` });
      expect(again).toMatchObject({ created: false, sameRequest: true, call: { callId: first.callId, kind: "notification" } });
      const changed = await store.createCall({ ...first, callId: `${u}-third`, requestHash: "hash-b", kind: "verification" });
      expect(changed).toMatchObject({ created: false, sameRequest: false, call: { callId: first.callId } });
    });

    it("keeps the key press, duration and times on the event that reports them", async () => {
      const call = newCall();
      await store.createCall(call);
      const accepted = await store.recordSendResult(
        call.callId,
        { kind: "accepted", providerCallId: `${u}-pc`, providerCode: "200", providerText: "" },
        NOW + 1,
      );
      // Every path that returns a call keeps what it says (the write path loads calls its own way).
      expect(accepted.call).toMatchObject({ kind: "ivr", templateName: "delivery" });
      const answered = final(`${u}-pc`, {
        dedupeKey: `${u}-answered`,
        state: CallState.ANSWERED,
        details: undefined,
      });
      const result = await store.ingest("sandbox", [answered, final(`${u}-pc`)], NOW + 2);
      expect(result.appended.map((e) => e.state)).toEqual([CallState.ANSWERED, CallState.COMPLETED]);
      const events = await store.listEvents({ callId: call.callId }, 0, 10);
      expect(events.map((e) => [e.state, e.pressedKey, e.durationSeconds, e.answeredAtMs, e.endedAtMs])).toEqual([
        [CallState.ACCEPTED, undefined, undefined, undefined, undefined],
        [CallState.ANSWERED, undefined, undefined, undefined, undefined],
        [CallState.COMPLETED, "1", 19, NOW + 10_000, NOW + 30_000],
      ]);
      expect(result.appended[1]).toMatchObject({ pressedKey: "1", durationSeconds: 19 });
      // What ingest answers is what a reader gets later, details included.
      expect(result.appended).toEqual(events.slice(1));
    });

    it("keeps them through parking: a report that arrives before the Send answer", async () => {
      const call = newCall();
      await store.createCall(call);
      const early = await store.ingest("sandbox", [final(`${u}-early`, { details: { pressedKey: "#" } })], NOW + 1);
      expect(early.parked).toBe(1);
      const applied = await store.recordSendResult(
        call.callId,
        { kind: "accepted", providerCallId: `${u}-early`, providerCode: "200", providerText: "" },
        NOW + 2,
      );
      expect(applied.events.map((e) => [e.state, e.pressedKey])).toEqual([
        [CallState.ACCEPTED, undefined],
        [CallState.COMPLETED, "#"],
      ]);
    });
  });
}
