/**
 * The behaviour every Store engine must have. Each engine's test file calls
 * describeStoreContract with a factory; ids are unique per test so an engine may share
 * one database between tests, and sequences are only ever compared, never predicted.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import type { NewCall, SendResult, Store } from "../../src/store/store.js";

const PROVIDER = "sandbox";
const NOW = 1_700_000_000_000;

export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    /** Per-test prefix for every id, key and reference. */
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
      provider: PROVIDER,
      phoneMasked: "+86138****0000",
      playTimes: 2,
      clientReference: `${u}-ref`,
      metadata: { tenant: "t1", purpose: "login" },
      idempotencyKey: "",
      requestHash: "hash-a",
      nowMs: NOW,
      ...overrides,
    });

    const accepted = (providerCallId: string): SendResult => ({
      kind: "accepted",
      providerCallId,
      providerCode: "OK",
      providerText: "accepted",
    });

    const push = (
      dedupe: string,
      state: CallState,
      overrides: Partial<InboundEvent> = {},
    ): InboundEvent => ({
      dedupeKey: `${u}-${dedupe}`,
      providerCallId: `${u}-pc`,
      callId: undefined,
      state,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: `code-${dedupe}`,
      providerText: `text-${dedupe}`,
      occurredAtMs: undefined,
      ...overrides,
    });

    /** A call the provider has accepted under `${u}-pc`. */
    const acceptedCall = async (overrides: Partial<NewCall> = {}): Promise<string> => {
      const call = newCall(overrides);
      await store.createCall(call);
      await store.recordSendResult(call.callId, accepted(`${u}-pc`), NOW + 1);
      return call.callId;
    };

    const states = async (callId: string): Promise<CallState[]> =>
      (await store.listEvents({ callId }, 0, 100)).map((e) => e.state);

    describe("createCall", () => {
      it("creates a PENDING call without events and reads it back", async () => {
        const input = newCall();
        const result = await store.createCall(input);
        expect(result.created).toBe(true);
        const expected = {
          callId: input.callId,
          kind: "verification",
          templateName: "",
          tenant: "default",
          provider: PROVIDER,
          providerCallId: "",
          phoneMasked: input.phoneMasked,
          playTimes: 2,
          clientReference: input.clientReference,
          metadata: { tenant: "t1", purpose: "login" },
          state: CallState.PENDING,
          failureReason: FailureReason.UNSPECIFIED,
          reasonProvisional: false,
          attempt: 1,
          continues: false,
          createdAtMs: NOW,
          updatedAtMs: NOW,
        };
        expect(result.call).toEqual(expected);
        expect(await store.getCall(input.callId)).toEqual(expected);
        expect(await store.listEvents({ callId: input.callId }, 0, 10)).toEqual([]);
      });

      it("returns undefined for an unknown call", async () => {
        expect(await store.getCall(`${u}-nope`)).toBeUndefined();
      });

      it("returns the existing call for a reused key, telling retries from reuse", async () => {
        const first = newCall({ idempotencyKey: `${u}-key`, requestHash: "h1" });
        await store.createCall(first);

        const retry = newCall({ idempotencyKey: `${u}-key`, requestHash: "h1", nowMs: NOW + 5 });
        const again = await store.createCall(retry);
        expect(again).toMatchObject({ created: false, sameRequest: true });
        expect(again.call.callId).toBe(first.callId);
        expect(again.call.createdAtMs).toBe(NOW);
        expect(await store.getCall(retry.callId)).toBeUndefined();

        const reuse = newCall({ idempotencyKey: `${u}-key`, requestHash: "h2" });
        const other = await store.createCall(reuse);
        expect(other).toMatchObject({ created: false, sameRequest: false });
        expect(other.call.callId).toBe(first.callId);
        expect(await store.getCall(reuse.callId)).toBeUndefined();
      });

      it("never dedupes calls without a key", async () => {
        const a = await store.createCall(newCall());
        const b = await store.createCall(newCall());
        expect(a.created && b.created).toBe(true);
        expect(a.call.callId).not.toBe(b.call.callId);
      });

      it("creates exactly one call for concurrent requests with the same key", async () => {
        const inputs = Array.from({ length: 8 }, () => newCall({ idempotencyKey: `${u}-race` }));
        const results = await Promise.all(inputs.map((c) => store.createCall(c)));
        const created = results.filter((r) => r.created);
        expect(created).toHaveLength(1);
        const winner = created[0]?.call.callId;
        for (const r of results) expect(r.call.callId).toBe(winner);
        const stored = await Promise.all(inputs.map((c) => store.getCall(c.callId)));
        expect(stored.filter((c) => c !== undefined)).toHaveLength(1);
      });
    });

    describe("recordSendResult", () => {
      it("accepted sets the provider id and appends ACCEPTED", async () => {
        const input = newCall();
        await store.createCall(input);
        const applied = await store.recordSendResult(input.callId, accepted(`${u}-pc`), NOW + 7);
        expect(applied.call).toMatchObject({
          providerCallId: `${u}-pc`,
          state: CallState.ACCEPTED,
          failureReason: FailureReason.UNSPECIFIED,
          updatedAtMs: NOW + 7,
        });
        expect(applied.events).toHaveLength(1);
        expect(applied.events[0]).toMatchObject({
          callId: input.callId,
          clientReference: input.clientReference,
          state: CallState.ACCEPTED,
          failureReason: FailureReason.UNSPECIFIED,
          provider: PROVIDER,
          providerCallId: `${u}-pc`,
          providerCode: "OK",
          providerText: "accepted",
          occurredAtMs: undefined,
          recordedAtMs: NOW + 7,
        });
        expect(await store.listEvents({ callId: input.callId }, 0, 10)).toEqual(applied.events);
        expect(await store.getCall(input.callId)).toEqual(applied.call);
      });

      it("rejected appends FAILED with the reason", async () => {
        const input = newCall();
        await store.createCall(input);
        const applied = await store.recordSendResult(
          input.callId,
          {
            kind: "rejected",
            reason: FailureReason.INSUFFICIENT_BALANCE,
            providerCode: "isv.AMOUNT_NOT_ENOUGH",
            providerText: "balance",
          },
          NOW + 3,
        );
        expect(applied.call).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.INSUFFICIENT_BALANCE,
          providerCallId: "",
        });
        expect(applied.events).toHaveLength(1);
        expect(applied.events[0]).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.INSUFFICIENT_BALANCE,
          providerCode: "isv.AMOUNT_NOT_ENOUGH",
          providerText: "balance",
        });
      });

      it("rejects an unknown call id", async () => {
        await expect(
          store.recordSendResult(`${u}-missing`, accepted(`${u}-pc`), NOW),
        ).rejects.toThrow();
      });
    });

    describe("ingest", () => {
      it("applies pushes in order with increasing sequences", async () => {
        const callId = await acceptedCall();
        const [acceptedEvent] = await store.listEvents({ callId }, 0, 10);
        const result = await store.ingest(
          PROVIDER,
          [
            push("d", CallState.DIALING, { occurredAtMs: NOW + 10 }),
            push("r", CallState.RINGING),
            push("a", CallState.ANSWERED),
            push("c", CallState.COMPLETED),
          ],
          NOW + 100,
        );
        expect(result).toMatchObject({ duplicates: 0, stale: 0, parked: 0 });
        expect(result.appended.map((e) => e.state)).toEqual([
          CallState.DIALING,
          CallState.RINGING,
          CallState.ANSWERED,
          CallState.COMPLETED,
        ]);
        let previous = acceptedEvent?.sequence ?? Number.NaN;
        for (const event of result.appended) {
          expect(event.sequence).toBeGreaterThan(previous);
          previous = event.sequence;
        }
        expect(result.appended[0]).toMatchObject({
          callId,
          clientReference: `${u}-ref`,
          provider: PROVIDER,
          providerCallId: `${u}-pc`,
          providerCode: "code-d",
          providerText: "text-d",
          occurredAtMs: NOW + 10,
          recordedAtMs: NOW + 100,
        });
        expect(await store.listEvents({ callId }, acceptedEvent?.sequence ?? 0, 10)).toEqual(
          result.appended,
        );
        expect(await store.getCall(callId)).toMatchObject({
          state: CallState.COMPLETED,
          updatedAtMs: NOW + 100,
        });
      });

      it("keeps the failure reason only on FAILED events", async () => {
        const callId = await acceptedCall();
        const result = await store.ingest(
          PROVIDER,
          [
            push("r", CallState.RINGING, { failureReason: FailureReason.BUSY }),
            push("f", CallState.FAILED, { failureReason: FailureReason.NO_ANSWER }),
          ],
          NOW + 2,
        );
        expect(result.appended.map((e) => e.failureReason)).toEqual([
          FailureReason.UNSPECIFIED,
          FailureReason.NO_ANSWER,
        ]);
        expect(await store.getCall(callId)).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.NO_ANSWER,
        });
      });

      it("counts duplicates in one batch and across batches without applying them", async () => {
        const callId = await acceptedCall();
        const first = await store.ingest(
          PROVIDER,
          [push("r", CallState.RINGING), push("r", CallState.RINGING)],
          NOW + 2,
        );
        expect(first.appended).toHaveLength(1);
        expect(first.duplicates).toBe(1);

        const second = await store.ingest(
          PROVIDER,
          [push("r", CallState.RINGING), push("c", CallState.COMPLETED)],
          NOW + 3,
        );
        expect(second.duplicates).toBe(1);
        expect(second.appended.map((e) => e.state)).toEqual([CallState.COMPLETED]);
        expect(await states(callId)).toEqual([
          CallState.ACCEPTED,
          CallState.RINGING,
          CallState.COMPLETED,
        ]);
      });

      it("dedupes per provider: the same key from another provider is a different push", async () => {
        await acceptedCall();
        await store.ingest(PROVIDER, [push("r", CallState.RINGING)], NOW + 2);
        const other = await store.ingest("other", [push("r", CallState.RINGING)], NOW + 3);
        expect(other.duplicates).toBe(0);
        expect(other.parked).toBe(1);
      });

      it("never moves a call backward; later pushes are stale", async () => {
        const callId = await acceptedCall();
        await store.ingest(PROVIDER, [push("c", CallState.COMPLETED)], NOW + 2);
        const result = await store.ingest(
          PROVIDER,
          [
            push("r", CallState.RINGING),
            push("f", CallState.FAILED, { failureReason: FailureReason.BUSY }),
            push("c2", CallState.COMPLETED),
            push("p", CallState.PENDING),
          ],
          NOW + 3,
        );
        expect(result).toMatchObject({ appended: [], stale: 4, duplicates: 0, parked: 0 });
        expect(await store.getCall(callId)).toMatchObject({
          state: CallState.COMPLETED,
          failureReason: FailureReason.UNSPECIFIED,
          updatedAtMs: NOW + 2,
        });
        expect(await states(callId)).toEqual([CallState.ACCEPTED, CallState.COMPLETED]);
      });

      it("skips states that arrive after a later one", async () => {
        const callId = await acceptedCall();
        const result = await store.ingest(
          PROVIDER,
          [push("a", CallState.ANSWERED), push("r", CallState.RINGING)],
          NOW + 2,
        );
        expect(result.stale).toBe(1);
        expect(await states(callId)).toEqual([CallState.ACCEPTED, CallState.ANSWERED]);
      });

      it("applies a push echoing our call id before the Send answer", async () => {
        const input = newCall();
        await store.createCall(input);
        const result = await store.ingest(
          PROVIDER,
          [push("d", CallState.DIALING, { callId: input.callId })],
          NOW + 2,
        );
        expect(result).toMatchObject({ stale: 0, parked: 0 });
        expect(result.appended.map((e) => e.state)).toEqual([CallState.DIALING]);
        expect(await store.getCall(input.callId)).toMatchObject({
          state: CallState.DIALING,
          providerCallId: `${u}-pc`,
        });

        // The late Send answer keeps the id and does not move the call back to ACCEPTED.
        const applied = await store.recordSendResult(input.callId, accepted(`${u}-pc`), NOW + 3);
        expect(applied.events).toEqual([]);
        expect(applied.call).toMatchObject({ state: CallState.DIALING, providerCallId: `${u}-pc` });
      });

      it("ignores a call id echo naming another provider's call", async () => {
        const input = newCall({ provider: "other" });
        await store.createCall(input);
        const result = await store.ingest(
          PROVIDER,
          [push("d", CallState.DIALING, { callId: input.callId })],
          NOW + 2,
        );
        expect(result).toMatchObject({ appended: [], parked: 1 });
        expect(await store.getCall(input.callId)).toMatchObject({ state: CallState.PENDING });
      });

      it("parks pushes for an unknown provider id and adopts them on accept, in lifecycle order", async () => {
        const input = newCall();
        await store.createCall(input);
        const parked = await store.ingest(
          PROVIDER,
          [push("a", CallState.ANSWERED), push("d", CallState.DIALING)],
          NOW + 2,
        );
        expect(parked).toMatchObject({ appended: [], parked: 2, stale: 0 });
        const late = await store.ingest(PROVIDER, [push("r", CallState.RINGING)], NOW + 3);
        expect(late.parked).toBe(1);
        expect(await store.getCall(input.callId)).toMatchObject({ state: CallState.PENDING });

        const applied = await store.recordSendResult(input.callId, accepted(`${u}-pc`), NOW + 4);
        expect(applied.events.map((e) => e.state)).toEqual([
          CallState.ACCEPTED,
          CallState.DIALING,
          CallState.RINGING,
          CallState.ANSWERED,
        ]);
        expect(applied.events[1]).toMatchObject({ providerCode: "code-d", recordedAtMs: NOW + 4 });
        expect(applied.call).toMatchObject({ state: CallState.ANSWERED });
        expect(await store.listEvents({ callId: input.callId }, 0, 10)).toEqual(applied.events);

        // Adopted pushes are settled: retries are duplicates, not parked again.
        const retry = await store.ingest(PROVIDER, [push("d", CallState.DIALING)], NOW + 5);
        expect(retry).toMatchObject({ appended: [], duplicates: 1, parked: 0 });
      });

      it("adopts parked terminals first come, first served", async () => {
        const input = newCall();
        await store.createCall(input);
        await store.ingest(
          PROVIDER,
          [
            push("f", CallState.FAILED, { failureReason: FailureReason.BUSY }),
            push("c", CallState.COMPLETED),
            push("r", CallState.RINGING),
          ],
          NOW + 2,
        );
        const applied = await store.recordSendResult(input.callId, accepted(`${u}-pc`), NOW + 3);
        expect(applied.events.map((e) => e.state)).toEqual([
          CallState.ACCEPTED,
          CallState.RINGING,
          CallState.FAILED,
        ]);
        expect(applied.call).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.BUSY,
        });
      });

      it("does not adopt parked pushes from another provider", async () => {
        const input = newCall();
        await store.createCall(input);
        await store.ingest("other", [push("r", CallState.RINGING)], NOW + 2);
        const applied = await store.recordSendResult(input.callId, accepted(`${u}-pc`), NOW + 3);
        expect(applied.events.map((e) => e.state)).toEqual([CallState.ACCEPTED]);
      });

      it("adopts parked pushes when an echoing push reveals the provider id", async () => {
        const input = newCall();
        await store.createCall(input);
        const result = await store.ingest(
          PROVIDER,
          [
            push("r", CallState.RINGING),
            push("d", CallState.DIALING, { callId: input.callId }),
          ],
          NOW + 2,
        );
        expect(result.appended.map((e) => e.state)).toEqual([
          CallState.DIALING,
          CallState.RINGING,
        ]);
        expect(result).toMatchObject({ parked: 0, stale: 0, duplicates: 0 });
        expect(await store.getCall(input.callId)).toMatchObject({
          state: CallState.RINGING,
          providerCallId: `${u}-pc`,
        });
      });

      it("applies nothing for a rejected call", async () => {
        const input = newCall();
        await store.createCall(input);
        await store.recordSendResult(
          input.callId,
          { kind: "rejected", reason: FailureReason.BLOCKED, providerCode: "x", providerText: "y" },
          NOW + 1,
        );
        const result = await store.ingest(
          PROVIDER,
          [push("c", CallState.COMPLETED, { callId: input.callId })],
          NOW + 2,
        );
        expect(result).toMatchObject({ appended: [], stale: 1 });
      });

      it("keeps an unreadable report (no ids) parked beside good pushes and never applies it", async () => {
        const callId = await acceptedCall();
        const unreadable = push("u", CallState.UNSPECIFIED, { providerCallId: "", unreadable: true, providerText: "raw, masked" });
        const result = await store.ingest(PROVIDER, [unreadable, push("r", CallState.RINGING)], NOW + 2);
        expect(result.appended.map((e) => e.state)).toEqual([CallState.RINGING]);
        expect(result).toMatchObject({ parked: 1, stale: 0, duplicates: 0 });
        // A re-push is a duplicate; a later accept of another call adopts nothing of it.
        expect(await store.ingest(PROVIDER, [unreadable], NOW + 3)).toMatchObject({ appended: [], duplicates: 1, parked: 0 });
        const other = newCall();
        await store.createCall(other);
        const applied = await store.recordSendResult(other.callId, accepted(`${u}-pc2`), NOW + 4);
        expect(applied.events.map((e) => e.state)).toEqual([CallState.ACCEPTED]);
        expect(await states(callId)).toEqual([CallState.ACCEPTED, CallState.RINGING]);
      });
    });

    describe("provisional failure reasons", () => {
      const coarse = (dedupe: string) =>
        push(dedupe, CallState.FAILED, { failureReason: FailureReason.NO_ANSWER, provisional: true });
      const precise = (dedupe: string, reason = FailureReason.BUSY) =>
        push(dedupe, CallState.FAILED, { failureReason: reason });
      const reasons = async (callId: string): Promise<FailureReason[]> =>
        (await store.listEvents({ callId }, 0, 100))
          .filter((e) => e.state === CallState.FAILED)
          .map((e) => e.failureReason);

      it("a precise failure after a provisional one refines the reason, once", async () => {
        const callId = await acceptedCall();
        await store.ingest(PROVIDER, [coarse("result")], NOW + 2);
        expect(await store.getCall(callId)).toMatchObject({ reasonProvisional: true, updatedAtMs: NOW + 2 });
        const refined = await store.ingest(PROVIDER, [precise("failure")], NOW + 3);
        expect(refined.appended).toHaveLength(1);
        const again = await store.ingest(PROVIDER, [precise("failure-2", FailureReason.POWERED_OFF)], NOW + 4);
        expect(again).toMatchObject({ appended: [], stale: 1 });
        expect(await reasons(callId)).toEqual([FailureReason.NO_ANSWER, FailureReason.BUSY]);
        const failed = (await store.listEvents({ callId }, 0, 100)).filter((e) => e.state === CallState.FAILED);
        expect(failed.map((e) => e.provisional)).toEqual([true, false]);
        expect(await store.getCall(callId)).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.BUSY,
          reasonProvisional: false,
        });
      });

      it("a provisional failure after a precise one is stale", async () => {
        const callId = await acceptedCall();
        await store.ingest(PROVIDER, [precise("failure")], NOW + 2);
        const late = await store.ingest(PROVIDER, [coarse("result")], NOW + 3);
        expect(late).toMatchObject({ appended: [], stale: 1 });
        expect(await reasons(callId)).toEqual([FailureReason.BUSY]);
      });

      it("a provisional failure never follows another provisional one or a completion", async () => {
        const failed = await acceptedCall();
        await store.ingest(PROVIDER, [coarse("r1")], NOW + 2);
        expect(await store.ingest(PROVIDER, [coarse("r2")], NOW + 3)).toMatchObject({ stale: 1 });
        expect(await reasons(failed)).toEqual([FailureReason.NO_ANSWER]);

        const doneCall = newCall();
        await store.createCall(doneCall);
        await store.recordSendResult(doneCall.callId, accepted(`${u}-pc2`), NOW + 1);
        const done = doneCall.callId;
        await store.ingest(
          PROVIDER,
          [push("c", CallState.COMPLETED, { providerCallId: "", callId: done })],
          NOW + 2,
        );
        const after = await store.ingest(
          PROVIDER,
          [push("f", CallState.FAILED, { providerCallId: "", callId: done, failureReason: FailureReason.BUSY })],
          NOW + 3,
        );
        expect(after).toMatchObject({ stale: 1 });
        expect(await states(done)).toEqual([CallState.ACCEPTED, CallState.COMPLETED]);
      });

      it("a send rejection is never provisional", async () => {
        const input = newCall();
        await store.createCall(input);
        await store.recordSendResult(
          input.callId,
          { kind: "rejected", reason: FailureReason.BLOCKED, providerCode: "x", providerText: "y" },
          NOW + 1,
        );
        const result = await store.ingest(
          PROVIDER,
          [push("f", CallState.FAILED, { callId: input.callId, failureReason: FailureReason.BUSY })],
          NOW + 2,
        );
        expect(result).toMatchObject({ appended: [], stale: 1 });
      });

      it("parked coarse and precise failures are both applied on adoption, in arrival order", async () => {
        const input = newCall();
        await store.createCall(input);
        await store.ingest(PROVIDER, [coarse("result"), precise("failure")], NOW + 1);
        await store.recordSendResult(input.callId, accepted(`${u}-pc`), NOW + 2);
        expect(await reasons(input.callId)).toEqual([FailureReason.NO_ANSWER, FailureReason.BUSY]);
      });
    });

    describe("deadline expiry (expireCalls)", () => {
      // Long before NOW: an engine sharing its database between tests holds calls created
      // at NOW (and earlier) by other tests, which a cutoff above them would expire too.
      const OLD = NOW - 10 * 86_400_000;
      const TEXT = "no final status arrived before the call deadline";
      const mine = (events: readonly { callId: string }[]) => events.filter((e) => e.callId.startsWith(u));

      /** Runs expiry batches until one comes back short, as the sweeper does. */
      const expireAll = async (createdBeforeMs: number, nowMs: number, limit = 50) => {
        const all = [];
        for (;;) {
          const batch = await store.expireCalls({ createdBeforeMs, nowMs, providerText: TEXT, limit });
          expect(batch.length).toBeLessThanOrEqual(limit);
          all.push(...batch);
          if (batch.length < limit) return mine(all);
        }
      };

      it("ends every non-terminal call past its deadline with a provisional FAILED UNKNOWN, once", async () => {
        const pending = newCall({ nowMs: OLD });
        await store.createCall(pending);
        const dialing = await acceptedCall({ nowMs: OLD });
        await store.ingest(PROVIDER, [push("d", CallState.DIALING)], OLD + 2);
        const done = newCall({ nowMs: OLD });
        await store.createCall(done);
        await store.recordSendResult(
          done.callId,
          { kind: "rejected", reason: FailureReason.BUSY, providerCode: "x", providerText: "y" },
          OLD + 1,
        );
        const young = newCall({ nowMs: OLD + 100 });
        await store.createCall(young);

        const events = await expireAll(OLD + 50, OLD + 60);
        expect(events.map((e) => e.callId).sort()).toEqual([pending.callId, dialing].sort());
        for (const e of events) {
          expect(e).toMatchObject({
            state: CallState.FAILED,
            failureReason: FailureReason.UNKNOWN,
            provisional: true,
            providerText: TEXT,
            recordedAtMs: OLD + 60,
          });
        }
        expect(await store.getCall(dialing)).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.UNKNOWN,
          reasonProvisional: true,
          updatedAtMs: OLD + 60,
          providerCallId: `${u}-pc`,
        });
        expect(await states(dialing)).toEqual([CallState.ACCEPTED, CallState.DIALING, CallState.FAILED]);
        expect(await store.getCall(done.callId)).toMatchObject({ failureReason: FailureReason.BUSY });
        expect(await store.getCall(young.callId)).toMatchObject({ state: CallState.PENDING });
        expect(await expireAll(OLD + 50, OLD + 70)).toEqual([]);
      });

      it("never returns more than `limit` expiries per batch", async () => {
        for (let i = 0; i < 3; i++) await store.createCall(newCall({ nowMs: OLD }));
        const events = await expireAll(OLD + 1, OLD + 2, 1);
        expect(events).toHaveLength(3);
      });

      it("a late final report replaces the expiry: a precise failure or a completion", async () => {
        const failed = await acceptedCall({ nowMs: OLD });
        const completed = newCall({ nowMs: OLD });
        await store.createCall(completed);
        await store.recordSendResult(completed.callId, accepted(`${u}-pc2`), OLD + 1);
        expect(await expireAll(OLD + 1, OLD + 2)).toHaveLength(2);

        const progress = await store.ingest(PROVIDER, [push("r", CallState.RINGING)], OLD + 3);
        expect(progress).toMatchObject({ appended: [], stale: 1 });
        await store.ingest(PROVIDER, [push("f", CallState.FAILED, { failureReason: FailureReason.BUSY })], OLD + 4);
        expect(await store.getCall(failed)).toMatchObject({
          state: CallState.FAILED,
          failureReason: FailureReason.BUSY,
          reasonProvisional: false,
        });
        const late = await store.ingest(
          PROVIDER,
          [push("c", CallState.COMPLETED, { providerCallId: `${u}-pc2` })],
          OLD + 5,
        );
        expect(late.appended.map((e) => [e.state, e.provisional])).toEqual([[CallState.COMPLETED, false]]);
        expect(await store.getCall(completed.callId)).toMatchObject({
          state: CallState.COMPLETED,
          failureReason: FailureReason.UNSPECIFIED,
          reasonProvisional: false,
        });
        expect(await states(completed.callId)).toEqual([
          CallState.ACCEPTED,
          CallState.FAILED,
          CallState.COMPLETED,
        ]);
      });

      it("a final status ingested concurrently with the sweeper: one clean outcome, no event lost", async () => {
        for (let i = 0; i < 8; i++) {
          const pc = `${u}-race-${i}`;
          const input = newCall({ nowMs: OLD });
          await store.createCall(input);
          await store.recordSendResult(input.callId, accepted(pc), OLD + 1);
          const final =
            i % 2 === 0
              ? push(`race-${i}`, CallState.COMPLETED, { providerCallId: pc })
              : push(`race-${i}`, CallState.FAILED, { providerCallId: pc, failureReason: FailureReason.BUSY });
          const [ingested, expired] = await Promise.all([
            store.ingest(PROVIDER, [final], OLD + 3),
            store.expireCalls({ createdBeforeMs: OLD + 1, nowMs: OLD + 3, providerText: TEXT, limit: 1000 }),
          ]);
          // The provider's report is never lost: applied whether it came first or second.
          expect(ingested).toMatchObject({ stale: 0, parked: 0, duplicates: 0 });
          expect(ingested.appended.map((e) => e.state)).toEqual([final.state]);
          const stored = await store.listEvents({ callId: input.callId }, 0, 100);
          const expiry = expired.filter((e) => e.callId === input.callId);
          expect(stored.map((e) => e.sequence)).toEqual(
            [stored[0]!, ...expiry, ...ingested.appended].map((e) => e.sequence).sort((a, b) => a - b),
          );
          // Either the report won (no expiry) or the expiry came first and the report refined it.
          const shape = stored.map((e) => `${CallState[e.state]}${e.provisional ? "?" : ""}`);
          expect([
            ["ACCEPTED", CallState[final.state]],
            ["ACCEPTED", "FAILED?", CallState[final.state]],
          ]).toContainEqual(shape);
          expect(await store.getCall(input.callId)).toMatchObject({
            state: final.state,
            failureReason: final.failureReason,
            reasonProvisional: false,
          });
        }
      });
    });

    describe("listOpenCalls", () => {
      it("lists a provider's non-terminal calls by call id, in pages", async () => {
        const provider = `${u}-prov`;
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const input = newCall({ provider, callId: `${u}-open-${i}` });
          await store.createCall(input);
          ids.push(input.callId);
        }
        await store.recordSendResult(ids[1]!, accepted(`${u}-o1`), NOW + 1);
        await store.recordSendResult(
          ids[3]!,
          { kind: "rejected", reason: FailureReason.BUSY, providerCode: "x", providerText: "y" },
          NOW + 1,
        );
        await store.createCall(newCall({ callId: `${u}-other-provider` }));

        const first = await store.listOpenCalls(provider, "", 2);
        expect(first.map((c) => c.callId)).toEqual([ids[0], ids[1]]);
        expect(first[1]).toMatchObject({ state: CallState.ACCEPTED, providerCallId: `${u}-o1`, playTimes: 2 });
        const rest = await store.listOpenCalls(provider, first[1]!.callId, 10);
        expect(rest.map((c) => c.callId)).toEqual([ids[2], ids[4]]);
      });
    });

    describe("retention (prune)", () => {
      const OLD = NOW - 100 * 86_400_000;

      /** Runs batches until nothing is left, as the sweeper does. */
      const pruneAll = async (callsBeforeMs: number, parkedBeforeMs: number, limit = 50) => {
        const total = { calls: 0, events: 0, pushes: 0, parked: 0 };
        for (;;) {
          const r = await store.prune({ callsBeforeMs, parkedBeforeMs, limit });
          expect(r.busy).toBe(false);
          expect(r.calls).toBeLessThanOrEqual(limit);
          expect(r.parked).toBeLessThanOrEqual(limit);
          total.calls += r.calls;
          total.events += r.events;
          total.pushes += r.pushes;
          total.parked += r.parked;
          if (r.calls === 0 && r.parked === 0) return total;
        }
      };

      it("deletes old terminal calls with their events and pushes, and old parked pushes; nothing else", async () => {
        const ended = newCall({ nowMs: OLD });
        await store.createCall(ended);
        await store.recordSendResult(ended.callId, accepted(`${u}-pc`), OLD + 1);
        await store.ingest(
          PROVIDER,
          [push("r", CallState.RINGING), push("c", CallState.COMPLETED), push("late", CallState.ANSWERED)],
          OLD + 2,
        );
        const open = newCall({ nowMs: OLD });
        await store.createCall(open);
        const recent = newCall({ nowMs: OLD });
        await store.createCall(recent);
        await store.recordSendResult(
          recent.callId,
          { kind: "rejected", reason: FailureReason.BUSY, providerCode: "x", providerText: "y" },
          NOW,
        );
        const stray = (key: string) => push(key, CallState.RINGING, { providerCallId: `${u}-${key}-unknown` });
        await store.ingest(PROVIDER, [stray("old-parked")], OLD + 3);
        await store.ingest(PROVIDER, [stray("new-parked")], NOW);

        await pruneAll(OLD + 10, OLD + 10);

        expect(await store.getCall(ended.callId)).toBeUndefined();
        expect(await store.listEvents({ callId: ended.callId }, 0, 10)).toEqual([]);
        expect(await store.getCall(open.callId)).toMatchObject({ state: CallState.PENDING });
        expect(await store.getCall(recent.callId)).toMatchObject({ state: CallState.FAILED });
        expect(await states(recent.callId)).toEqual([CallState.FAILED]);
        // A deleted push is no longer a duplicate; a kept one still is.
        expect(await store.ingest(PROVIDER, [stray("old-parked")], NOW)).toMatchObject({ parked: 1 });
        expect(await store.ingest(PROVIDER, [stray("new-parked")], NOW)).toMatchObject({ duplicates: 1 });
        expect(await store.ingest(PROVIDER, [push("c", CallState.COMPLETED)], NOW)).toMatchObject({
          duplicates: 0,
          parked: 1,
        });
      });

      it("counts what it deleted and works in batches of `limit`", async () => {
        for (let i = 0; i < 3; i++) {
          const input = newCall({ nowMs: OLD });
          await store.createCall(input);
          const pc = `${u}-batch-${i}`;
          await store.recordSendResult(input.callId, accepted(pc), OLD + 1);
          await store.ingest(PROVIDER, [push(`b-${i}`, CallState.COMPLETED, { providerCallId: pc })], OLD + 2);
        }
        const total = await pruneAll(OLD + 10, OLD + 10, 1);
        // Other tests sharing the database may own more old rows; ours are all counted.
        expect(total.calls).toBeGreaterThanOrEqual(3);
        expect(total.events).toBeGreaterThanOrEqual(6);
        expect(total.pushes).toBeGreaterThanOrEqual(3);
      });
    });

    describe("listEvents", () => {
      it("pages by call id and by client reference", async () => {
        const a = newCall({ clientReference: `${u}-shared` });
        const b = newCall({ clientReference: `${u}-shared` });
        const c = newCall({ clientReference: `${u}-alone` });
        for (const call of [a, b, c]) await store.createCall(call);
        await store.recordSendResult(a.callId, accepted(`${u}-pa`), NOW + 1);
        await store.recordSendResult(b.callId, accepted(`${u}-pb`), NOW + 1);
        await store.recordSendResult(c.callId, accepted(`${u}-pc`), NOW + 1);
        await store.ingest(
          PROVIDER,
          [
            push("a-r", CallState.RINGING, { providerCallId: `${u}-pa` }),
            push("c-r", CallState.RINGING, { providerCallId: `${u}-pc` }),
            push("b-r", CallState.RINGING, { providerCallId: `${u}-pb` }),
            push("a-c", CallState.COMPLETED, { providerCallId: `${u}-pa` }),
          ],
          NOW + 2,
        );

        const byA = await store.listEvents({ callId: a.callId }, 0, 10);
        expect(byA.map((e) => e.state)).toEqual([
          CallState.ACCEPTED,
          CallState.RINGING,
          CallState.COMPLETED,
        ]);
        expect(byA.every((e) => e.callId === a.callId)).toBe(true);

        const shared = await store.listEvents({ clientReference: `${u}-shared` }, 0, 100);
        expect(shared.map((e) => e.callId)).toEqual([
          a.callId,
          b.callId,
          a.callId,
          b.callId,
          a.callId,
        ]);
        const sequences = shared.map((e) => e.sequence);
        expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);

        const firstPage = await store.listEvents({ clientReference: `${u}-shared` }, 0, 2);
        expect(firstPage).toEqual(shared.slice(0, 2));
        const after = firstPage[1]?.sequence ?? 0;
        const nextPage = await store.listEvents({ clientReference: `${u}-shared` }, after, 2);
        expect(nextPage).toEqual(shared.slice(2, 4));
        const lastPage = await store.listEvents(
          { clientReference: `${u}-shared` },
          shared[4]?.sequence ?? 0,
          2,
        );
        expect(lastPage).toEqual([]);

        expect(await store.listEvents({ callId: a.callId }, byA[0]?.sequence ?? 0, 1)).toEqual(
          byA.slice(1, 2),
        );
        expect(await store.listEvents({ callId: a.callId }, 0, 0)).toEqual([]);
        expect(await store.listEvents({ callId: `${u}-none` }, 0, 10)).toEqual([]);
      });
    });
  });
}
