/**
 * A single-call watch and provisional failures: the stream stays open for the precise
 * reason for a grace period, and ends as soon as it arrives.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Bus, createLocalBus } from "../../src/bus/bus.js";
import { CallState, type EventRecord, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { createWatchDrain } from "../../src/streams/drain.js";
import { watchEvents } from "../../src/streams/watch-events.js";
import type { Store } from "../../src/store/store.js";
import { storeWithAcceptedCall } from "../support/watched-call.js";

let store: Store;
let bus: Bus;
const CALL = "01JDXYZABCDEFGHJKMNPQRSTVW";

beforeEach(async () => {
  store = await storeWithAcceptedCall(CALL);
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

async function push(event: InboundEvent): Promise<void> {
  const { appended } = await store.ingest("p", [event], Date.now());
  bus.publish(appended.map((e) => ({ sequence: e.sequence, callId: e.callId, clientReference: e.clientReference })));
}

function watch(options: { afterSequence?: number; refineGraceMs: number; now?: () => number }) {
  return watchEvents({
    store,
    bus,
    target: { callId: CALL, tenant: "default" },
    afterSequence: options.afterSequence ?? 0,
    signal: new AbortController().signal,
    drain: createWatchDrain(),
    refineGraceMs: options.refineGraceMs,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

async function drain(stream: AsyncIterable<EventRecord>): Promise<Array<[CallState, FailureReason, boolean]>> {
  const out: Array<[CallState, FailureReason, boolean]> = [];
  for await (const e of stream) out.push([e.state, e.failureReason, e.provisional]);
  return out;
}

describe("watchEvents and provisional failures", () => {
  it("stays open after a provisional failure and ends at the precise one", async () => {
    await push(failure("coarse", FailureReason.NO_ANSWER, true));
    // An hour of grace: the stream can only end early because the precise event came.
    const watched = drain(watch({ refineGraceMs: 3_600_000 }));
    await new Promise((r) => setTimeout(r, 20));
    await push(failure("precise", FailureReason.BUSY, false));
    expect(await watched).toEqual([
      [CallState.ACCEPTED, FailureReason.UNSPECIFIED, false],
      [CallState.FAILED, FailureReason.NO_ANSWER, true],
      [CallState.FAILED, FailureReason.BUSY, false],
    ]);
  });

  it("ends after the grace period when no precise reason comes", async () => {
    await push(failure("coarse", FailureReason.PROVIDER_ERROR, true));
    const rows = await drain(watch({ refineGraceMs: 30 }));
    expect(rows.at(-1)).toEqual([CallState.FAILED, FailureReason.PROVIDER_ERROR, true]);
  });

  it("a watch resumed after the provisional event still gets the precise one", async () => {
    await push(failure("coarse", FailureReason.NO_ANSWER, true));
    const [, coarse] = await store.listEvents({ callId: CALL }, 0, 10);
    const watched = drain(watch({ afterSequence: coarse!.sequence, refineGraceMs: 3_600_000 }));
    await new Promise((r) => setTimeout(r, 20));
    await push(failure("precise", FailureReason.POWERED_OFF, false));
    expect(await watched).toEqual([[CallState.FAILED, FailureReason.POWERED_OFF, false]]);
  });

  it("a watch resumed after the grace period has passed ends at once", async () => {
    await push(failure("coarse", FailureReason.NO_ANSWER, true));
    const [, coarse] = await store.listEvents({ callId: CALL }, 0, 10);
    const later = () => Date.now() + 10_000;
    expect(await drain(watch({ afterSequence: coarse!.sequence, refineGraceMs: 5_000, now: later }))).toEqual([]);
  });

  it("a precise failure first ends the watch; the late coarse one is never shown", async () => {
    await push(failure("precise", FailureReason.BUSY, false));
    await push(failure("coarse", FailureReason.NO_ANSWER, true));
    expect(await drain(watch({ refineGraceMs: 3_600_000 }))).toEqual([
      [CallState.ACCEPTED, FailureReason.UNSPECIFIED, false],
      [CallState.FAILED, FailureReason.BUSY, false],
    ]);
  });
});
