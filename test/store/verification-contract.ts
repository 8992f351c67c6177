/**
 * Verifications (Check) as every Store engine must keep them: each outcome, expiry, the
 * attempts budget under concurrent Checks (across two replicas where the engine has
 * them), supersession by a re-send, and verification events that never move a call.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason, VerificationState } from "../../src/core/model.js";
import { createKeyring, type Keyring } from "../../src/secrets/keyring.js";
import type { NewCall, Store } from "../../src/store/store.js";
import { CheckResult, type CheckTarget } from "../../src/store/verifications.js";
import { codeHash } from "../../src/verify/code-hash.js";

const NOW = 1_700_000_000_000;
const TTL = 600_000;
const BUDGET = 5;

export function describeVerificationContract(
  name: string,
  /** Opens the store under `secret`'s keyring: it compares typed codes with hashes made under it. */
  open: (secret: Buffer) => Promise<Store>,
  options: { readonly replicas: boolean },
): void {
  describe(`Store verification contract: ${name}`, () => {
    let store: Store;
    let u: string;
    const secret = randomBytes(32);
    const keyring: Keyring = createKeyring(secret);
    const opened: Store[] = [];

    beforeEach(async () => {
      store = await open(secret);
      opened.push(store);
      u = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    const tenant = () => `${u}-tenant`;
    const ref = () => `${u}-ref`;

    /** A call with a verification of `code`; returns its id. */
    const send = async (code: string, overrides: Partial<NewCall> = {}, on: Store = store): Promise<string> => {
      const callId = overrides.callId ?? `${u}-call-${randomUUID()}`;
      const result = await on.createCall({
        callId,
        tenant: tenant(),
        provider: "sandbox",
        phoneMasked: "+86*******0000",
        playTimes: 2,
        clientReference: ref(),
        metadata: {},
        idempotencyKey: "",
        requestHash: "h",
        nowMs: NOW,
        verification: { codeHash: codeHash(keyring, callId, code), expiresAtMs: NOW + TTL, attempts: BUDGET },
        ...overrides,
      });
      return result.call.callId;
    };

    const check = (target: Partial<CheckTarget> & ({ callId: string } | { clientReference: string }), code: string, nowMs = NOW + 1, on: Store = store) =>
      on.checkVerification({
        target: { tenant: tenant(), ...target } as CheckTarget,
        nowMs,
        code,
      });

    it("approves the right code once, with a VERIFIED event that repeats the call's state", async () => {
      const callId = await send("482913");
      await store.recordSendResult(callId, { kind: "accepted", providerCallId: `${u}-pc`, providerCode: "0", providerText: "ok" }, NOW);
      const first = await check({ callId }, "482913");
      expect(first).toMatchObject({ result: CheckResult.APPROVED, attemptsLeft: 0, callId });
      expect(first.event).toMatchObject({
        callId,
        tenant: tenant(),
        clientReference: ref(),
        state: CallState.ACCEPTED,
        verification: VerificationState.VERIFIED,
        provisional: false,
      });
      const again = await check({ callId }, "482913");
      expect(again).toMatchObject({ result: CheckResult.ALREADY_APPROVED, callId, event: undefined });
      // The call did not move; its events are the lifecycle's plus the one verification event.
      expect((await store.getCall(callId))?.state).toBe(CallState.ACCEPTED);
      const events = await store.listEvents({ callId }, 0, 100);
      expect(events.map((e) => e.verification)).toEqual([VerificationState.UNSPECIFIED, VerificationState.VERIFIED]);
    });

    it("counts wrong codes down, locks on the last one, and then compares nothing", async () => {
      const callId = await send("482913");
      const seen: Array<[CheckResult, number, VerificationState | undefined]> = [];
      for (let i = 0; i < BUDGET; i++) {
        const r = await check({ callId }, "000000");
        seen.push([r.result, r.attemptsLeft, r.event?.verification]);
      }
      expect(seen).toEqual([
        [CheckResult.WRONG_CODE, 4, VerificationState.WRONG_CODE],
        [CheckResult.WRONG_CODE, 3, VerificationState.WRONG_CODE],
        [CheckResult.WRONG_CODE, 2, VerificationState.WRONG_CODE],
        [CheckResult.WRONG_CODE, 1, VerificationState.WRONG_CODE],
        [CheckResult.WRONG_CODE, 0, VerificationState.LOCKED],
      ]);
      // Even the right code: the budget is spent.
      expect(await check({ callId }, "482913")).toMatchObject({ result: CheckResult.TOO_MANY_ATTEMPTS, event: undefined });
    });

    it("expires at expires_at (recorded once) and then compares nothing", async () => {
      const callId = await send("482913");
      expect((await check({ callId }, "482913", NOW + TTL - 1)).result).toBe(CheckResult.APPROVED);
      const other = await send("555123");
      const expired = await check({ callId: other }, "555123", NOW + TTL);
      expect(expired).toMatchObject({ result: CheckResult.EXPIRED, attemptsLeft: 0, callId: other });
      expect(expired.event?.verification).toBe(VerificationState.EXPIRED);
      const again = await check({ callId: other }, "555123", NOW + TTL + 1);
      expect(again).toMatchObject({ result: CheckResult.EXPIRED, event: undefined });
    });

    it("answers NOT_FOUND for unknown calls, calls without a verification and other tenants", async () => {
      const callId = await send("482913");
      const plain = await send("482913", { verification: undefined, clientReference: `${u}-plain` });
      expect((await check({ callId: `${u}-nope` }, "1234")).result).toBe(CheckResult.NOT_FOUND);
      expect((await check({ callId: plain }, "482913")).result).toBe(CheckResult.NOT_FOUND);
      expect((await check({ clientReference: `${u}-plain` }, "482913")).result).toBe(CheckResult.NOT_FOUND);
      const foreign = await check({ tenant: `${u}-other`, callId }, "482913");
      expect(foreign).toEqual({ result: CheckResult.NOT_FOUND, attemptsLeft: 0, callId: "", event: undefined });
      // Nothing was spent by the foreign Check.
      expect((await check({ callId }, "000000")).attemptsLeft).toBe(BUDGET - 1);
    });

    it("a re-send for the same reference supersedes the older code", async () => {
      const older = await send("111111");
      const newer = await send("222222");
      expect(await check({ callId: older }, "111111")).toMatchObject({ result: CheckResult.EXPIRED, event: undefined });
      const byRef = await check({ clientReference: ref() }, "111111");
      expect(byRef).toMatchObject({ result: CheckResult.WRONG_CODE, callId: newer, attemptsLeft: BUDGET - 1 });
      expect(await check({ clientReference: ref() }, "222222")).toMatchObject({ result: CheckResult.APPROVED, callId: newer });
      // Another reference of the same tenant is untouched.
      const elsewhere = await send("333333", { clientReference: `${u}-elsewhere` });
      expect((await check({ callId: elsewhere }, "333333")).result).toBe(CheckResult.APPROVED);
    });

    it("an idempotent replay stores no second verification", async () => {
      const callId = await send("482913", { idempotencyKey: `${u}-idem` });
      const replay = await send("999999", { idempotencyKey: `${u}-idem` });
      expect(replay).toBe(callId);
      expect((await check({ clientReference: ref() }, "482913")).result).toBe(CheckResult.APPROVED);
    });

    it("concurrent wrong Checks spend exactly the budget", async () => {
      const callId = await send("482913");
      const other = options.replicas ? await open(secret) : store;
      if (other !== store) opened.push(other);
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => check({ callId }, "000000", NOW + 1, i % 2 === 0 ? store : other)),
      );
      const wrong = results.filter((r) => r.result === CheckResult.WRONG_CODE);
      expect(wrong.map((r) => r.attemptsLeft).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(results.filter((r) => r.result === CheckResult.TOO_MANY_ATTEMPTS)).toHaveLength(16 - BUDGET);
      const verifications = (await store.listEvents({ callId }, 0, 100)).map((e) => e.verification);
      expect(verifications.filter((v) => v === VerificationState.WRONG_CODE)).toHaveLength(BUDGET - 1);
      expect(verifications.filter((v) => v === VerificationState.LOCKED)).toHaveLength(1);
    });

    it("concurrent right Checks approve exactly once", async () => {
      const callId = await send("482913");
      const other = options.replicas ? await open(secret) : store;
      if (other !== store) opened.push(other);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => check({ callId }, "482913", NOW + 1, i % 2 === 0 ? store : other)),
      );
      expect(results.filter((r) => r.result === CheckResult.APPROVED)).toHaveLength(1);
      expect(results.filter((r) => r.result === CheckResult.ALREADY_APPROVED)).toHaveLength(7);
    });

    it("a verification event after the terminal one neither moves the call nor blocks its refinement", async () => {
      const callId = await send("482913");
      await store.recordSendResult(callId, { kind: "rejected", reason: FailureReason.BUSY, providerCode: "486", providerText: "busy" }, NOW);
      const r = await check({ callId }, "482913");
      expect(r.event).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.BUSY, provisional: false });
      const call = await store.getCall(callId);
      expect(call).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.BUSY });
    });

    it("retention deletes a call's verification with the call", async () => {
      const callId = await send("482913");
      await store.recordSendResult(callId, { kind: "rejected", reason: FailureReason.BUSY, providerCode: "486", providerText: "busy" }, NOW);
      await check({ callId }, "482913");
      let deleted = 0;
      for (let i = 0; i < 50 && deleted === 0; i++) {
        const pruned = await store.prune({ callsBeforeMs: NOW + 10, parkedBeforeMs: 0, limit: 1000 });
        deleted += pruned.busy ? 0 : pruned.calls;
      }
      expect(await store.getCall(callId)).toBeUndefined();
      expect((await check({ callId }, "482913")).result).toBe(CheckResult.NOT_FOUND);
    });
  });
}
