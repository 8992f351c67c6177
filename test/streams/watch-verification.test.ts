/**
 * A verification event (a Check) on a single-call watch: it repeats the call's state, so
 * on a call FAILED provisionally it looks like a definitive FAILED; it must neither end
 * the watch nor cut the wait for the precise reason.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Bus, createLocalBus } from "../../src/bus/bus.js";
import { CallState, type EventRecord, FailureReason, VerificationState } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import type { Store } from "../../src/store/store.js";
import { createWatchDrain } from "../../src/streams/drain.js";
import { watchEvents } from "../../src/streams/watch-events.js";
import { codeHash } from "../../src/verify/code-hash.js";
import { testKeyring } from "../support/keyring.js";
import { storeWithAcceptedCall } from "../support/watched-call.js";

const CALL = "01JDXYZABCDEFGHJKMNPQRSTVW";
const keyring = testKeyring();
let store: Store;
let bus: Bus;

beforeEach(async () => {
  store = await storeWithAcceptedCall(CALL, {
    keyring,
    verification: { codeHash: codeHash(keyring, CALL, "482913"), expiresAtMs: Date.now() + 600_000, attempts: 5 },
  });
  bus = createLocalBus();
});
afterEach(() => store.close());

const failure = (key: string, reason: FailureReason, provisional: boolean): InboundEvent => ({
  dedupeKey: key,
  providerCallId: "pc",
  callId: undefined,
  state: CallState.FAILED,
  failureReason: reason,
  providerCode: key,
  providerText: "",
  occurredAtMs: undefined,
  provisional,
});

const announce = (events: readonly EventRecord[]) => bus.publish(events);

/** The single-call watch of CALL from the start, with the given refine grace. */
const watchCall = (refineGraceMs: number) =>
  watchEvents({
    store,
    bus,
    target: { callId: CALL, tenant: "default" },
    afterSequence: 0,
    signal: new AbortController().signal,
    drain: createWatchDrain(),
    refineGraceMs,
  });

it("a verification event during the refine wait neither ends the watch nor the wait", async () => {
  announce((await store.ingest("p", [failure("coarse", FailureReason.NO_ANSWER, true)], Date.now())).appended);
  const seen: Array<[CallState, VerificationState | undefined]> = [];
  const watched = (async () => {
    // An hour: the watch can only end because the precise failure came.
    for await (const e of watchCall(3_600_000)) seen.push([e.state, e.verification]);
  })();
  const checked = await store.checkVerification({
    target: { tenant: "default", callId: CALL },
    nowMs: Date.now(),
    code: "482913",
  });
  expect(checked.event).toMatchObject({ state: CallState.FAILED, provisional: false });
  announce(checked.event === undefined ? [] : [checked.event]);
  await new Promise((r) => setTimeout(r, 20));
  announce((await store.ingest("p", [failure("precise", FailureReason.BUSY, false)], Date.now())).appended);
  await watched;
  expect(seen).toEqual([
    [CallState.ACCEPTED, VerificationState.UNSPECIFIED],
    [CallState.FAILED, VerificationState.UNSPECIFIED],
    [CallState.FAILED, VerificationState.VERIFIED],
    [CallState.FAILED, VerificationState.UNSPECIFIED],
  ]);
});

it("a verification event during the refine wait does not stop its clock: the watch still ends when the grace runs out", async () => {
  const graceMs = 300;
  const seen: CallState[] = [];
  let ended = false;
  const watched = (async () => {
    for await (const e of watchCall(graceMs)) seen.push(e.state);
    ended = true;
  })();
  // Caught up with the live call first, then the provisional failure, then a Check.
  await new Promise((r) => setTimeout(r, 20));
  announce((await store.ingest("p", [failure("coarse", FailureReason.NO_ANSWER, true)], Date.now())).appended);
  await new Promise((r) => setTimeout(r, 20));
  const checked = await store.checkVerification({ target: { tenant: "default", callId: CALL }, nowMs: Date.now(), code: "482913" });
  announce(checked.event === undefined ? [] : [checked.event]);
  // No precise reason ever comes: the watch ends at the grace's end, not never.
  await new Promise((r) => setTimeout(r, graceMs * 4));
  expect(ended).toBe(true);
  await watched;
  expect(seen).toEqual([CallState.ACCEPTED, CallState.FAILED, CallState.FAILED]);
});
