/**
 * The push-based watch (src/streams/watch.ts) seen through its sink: what an idle watch
 * holds and releases, backpressure, and how it ends. The replay/live and refine-grace
 * rules are pinned through its pull adapter (watch-events.test.ts) and end to end.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type LocalBus, createLocalBus } from "../../src/bus/bus.js";
import { VoiceCodeError } from "../../src/core/errors.js";
import { CallState, type EventRecord, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { type WatchDrainSwitch, createWatchDrain } from "../../src/streams/drain.js";
import { type WatchContext, type WatchSink, type WatchTarget, openWatch } from "../../src/streams/watch.js";
import type { Store } from "../../src/store/store.js";
import { storeWithAcceptedCall } from "../support/watched-call.js";

const CALL = "01JDXYZABCDEFGHJKMNPQRSTVW";
const MINE: WatchTarget = { callId: CALL, tenant: "default" };

let store: Store;
let bus: LocalBus;
let drain: WatchDrainSwitch;
let reads: number;
let context: WatchContext;

beforeEach(async () => {
  store = await storeWithAcceptedCall(CALL);
  bus = createLocalBus();
  drain = createWatchDrain();
  // Counts the watch's event reads, so a test can wait until a watch has gone idle.
  reads = 0;
  const counted: Store = Object.create(store) as Store;
  counted.listEvents = async (...args) => {
    const events = await store.listEvents(...args);
    reads++;
    return events;
  };
  context = { store: counted, bus, drain, refineGraceMs: 3_600_000 };
});
afterEach(() => store.close());

const inbound = (key: string, state: CallState, reason = FailureReason.UNSPECIFIED): InboundEvent => ({
  dedupeKey: key,
  providerCallId: "pc",
  callId: undefined,
  state,
  failureReason: reason,
  providerCode: key,
  providerText: "",
  occurredAtMs: undefined,
  provisional: false,
});

async function push(...events: InboundEvent[]): Promise<number> {
  const { appended } = await store.ingest("p", events, Date.now());
  bus.publish(appended.map((e) => ({ sequence: e.sequence, callId: e.callId, clientReference: e.clientReference })));
  return appended.at(-1)?.sequence ?? 0;
}

/** A sink that records what it was told; `room` is what event() answers. */
function recorder(room = true) {
  const seen = { events: [] as EventRecord[], ended: 0, failures: [] as unknown[], released: 0 };
  const sink: WatchSink = {
    event(event) {
      seen.events.push(event);
      return room;
    },
    end: () => seen.ended++,
    fail: (err) => seen.failures.push(err),
    released: () => seen.released++,
  };
  return { seen, sink };
}

async function latestSequence(): Promise<number> {
  return (await store.listEvents({ callId: CALL }, 0, 100)).at(-1)?.sequence ?? 0;
}

describe("openWatch", () => {
  it("an idle watch is one bus subscription and one drain entry; cancel releases both and tells the sink nothing", async () => {
    const { seen, sink } = recorder();
    const control = openWatch(context, MINE, await latestSequence(), sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    expect(bus.subscriberCount).toBe(1);
    expect(drain.size).toBe(1);

    control.cancel();
    expect(bus.subscriberCount).toBe(0);
    expect(bus.keyCount).toBe(0);
    expect(drain.size).toBe(0);
    expect(seen).toEqual({ events: [], ended: 0, failures: [], released: 1 });

    // A later event and a second cancel reach nothing.
    await push(inbound("ring", CallState.RINGING));
    control.cancel();
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(1);
    expect(seen.released).toBe(1);
  });

  it("wakes on a notice of its call and reads only what is new", async () => {
    const { seen, sink } = recorder();
    const control = openWatch(context, MINE, await latestSequence(), sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    await push(inbound("ring", CallState.RINGING));
    await vi.waitFor(() => expect(seen.events.map((e) => e.state)).toEqual([CallState.RINGING]));
    control.cancel();
  });

  it("a notice that comes while its read loop is winding down is not lost", async () => {
    // The notice arrives after the watch's last read returned (nothing new) but before the
    // loop has let go of `running`: a few microtasks later, from another promise chain, as a
    // webhook's publish can. Tried at every hop, so the test does not hang on V8's count.
    for (let hops = 0; hops < 8; hops++) {
      // A call of its own per try: one RINGING event each.
      const callId = `${CALL.slice(0, -1)}${hops}`;
      await store.createCall({
        callId,
        provider: "p",
        phoneMasked: "+86*******2222",
        playTimes: 2,
        clientReference: `r${hops}`,
        metadata: {},
        idempotencyKey: "",
        requestHash: "h",
        nowMs: Date.now(),
      });
      await store.recordSendResult(callId, { kind: "accepted", providerCallId: `pc${hops}`, providerCode: "0", providerText: "" }, Date.now());
      const after = (await store.listEvents({ callId }, 0, 100)).at(-1)?.sequence ?? 0;
      let armed = true;
      const racing: Store = Object.create(store) as Store;
      racing.listEvents = async (...args) => {
        const events = await store.listEvents(...args);
        if (armed) {
          armed = false;
          // Stored after this read's query, announced `hops` microtasks after it returns.
          const ring = { ...inbound(`race-${hops}`, CallState.RINGING), providerCallId: `pc${hops}` };
          const { appended } = await store.ingest("p", [ring], Date.now());
          const notices = appended.map((e) => ({ sequence: e.sequence, callId: e.callId, clientReference: e.clientReference }));
          let announce = () => bus.publish(notices);
          for (let i = 0; i < hops; i++) {
            const next = announce;
            announce = () => queueMicrotask(next);
          }
          queueMicrotask(announce);
        }
        return events;
      };
      const { seen, sink } = recorder();
      const control = openWatch({ ...context, store: racing }, { callId, tenant: "default" }, after, sink);
      await vi.waitFor(() => expect(seen.events.map((e) => e.providerCode)).toEqual([`race-${hops}`]), { timeout: 500 });
      control.cancel();
    }
  });

  it("reads the call once: after a caught-up read of a live call, a wake-up reads only events", async () => {
    let callReads = 0;
    const counting: Store = Object.create(context.store) as Store;
    counting.getCall = async (...args) => {
      callReads++;
      return store.getCall(...args);
    };
    const { seen, sink } = recorder();
    const control = openWatch({ ...context, store: counting }, MINE, await latestSequence(), sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    await push(inbound("dial", CallState.DIALING));
    await vi.waitFor(() => expect(seen.events).toHaveLength(1));
    await push(inbound("ring", CallState.RINGING));
    await vi.waitFor(() => expect(seen.events).toHaveLength(2));
    await push(inbound("answer", CallState.ANSWERED));
    await vi.waitFor(() => expect(seen.events).toHaveLength(3));
    expect(callReads).toBe(1);
    // The end still comes, as an event.
    await push(inbound("done", CallState.COMPLETED));
    await vi.waitFor(() => expect(seen.ended).toBe(1));
    expect(callReads).toBe(1);
    control.cancel();
  });

  it("holds further events while the sink is full and goes on at resume()", async () => {
    await push(inbound("dial", CallState.DIALING), inbound("ring", CallState.RINGING));
    const { seen, sink } = recorder(false);
    const control = openWatch(context, MINE, 0, sink);
    await vi.waitFor(() => expect(seen.events).toHaveLength(1));
    // Held: however many turns pass, nothing more until resume().
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(seen.events).toHaveLength(1);

    control.resume();
    await vi.waitFor(() => expect(seen.events).toHaveLength(2));
    control.resume();
    await vi.waitFor(() => expect(seen.events).toHaveLength(3));
    expect(seen.events.map((e) => e.state)).toEqual([CallState.ACCEPTED, CallState.DIALING, CallState.RINGING]);
    control.cancel();
    expect(bus.subscriberCount).toBe(0);
  });

  it("a cancel while held for room releases at once and sends nothing more", async () => {
    await push(inbound("dial", CallState.DIALING));
    const { seen, sink } = recorder(false);
    const control = openWatch(context, MINE, 0, sink);
    await vi.waitFor(() => expect(seen.events).toHaveLength(1));
    control.cancel();
    expect(bus.subscriberCount).toBe(0);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(seen).toMatchObject({ ended: 0, failures: [], released: 1 });
    expect(seen.events).toHaveLength(1);
  });

  it("ends after the call's terminal event and releases everything", async () => {
    const { seen, sink } = recorder();
    openWatch(context, MINE, 0, sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    await push(inbound("busy", CallState.FAILED, FailureReason.BUSY));
    await vi.waitFor(() => expect(seen.ended).toBe(1));
    expect(seen.events.map((e) => e.state)).toEqual([CallState.ACCEPTED, CallState.FAILED]);
    expect(seen).toMatchObject({ failures: [], released: 1 });
    expect(bus.subscriberCount).toBe(0);
    expect(drain.size).toBe(0);
  });

  it("fails an idle watch with UNAVAILABLE and its resume point when the server drains", async () => {
    const { seen, sink } = recorder();
    const after = await latestSequence();
    openWatch(context, MINE, after, sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    drain.start();
    await vi.waitFor(() => expect(seen.failures).toHaveLength(1));
    const err = seen.failures[0] as VoiceCodeError;
    expect(err).toBeInstanceOf(VoiceCodeError);
    expect(err.code).toBe("UNAVAILABLE");
    expect(err.message).toContain(`after_sequence=${after}`);
    expect(seen).toMatchObject({ ended: 0, released: 1 });
    expect(bus.subscriberCount).toBe(0);
    expect(drain.size).toBe(0);
  });

  it("answers another tenant's call with NOT_FOUND, as an unknown one", async () => {
    for (const target of [
      { callId: CALL, tenant: "other" },
      { callId: "01JDXYZABCDEFGHJKMNPQRSTVX", tenant: "default" },
    ]) {
      const { seen, sink } = recorder();
      openWatch(context, target, 0, sink);
      await vi.waitFor(() => expect(seen.failures).toHaveLength(1));
      expect((seen.failures[0] as VoiceCodeError).code).toBe("NOT_FOUND");
      expect(seen).toMatchObject({ events: [], ended: 0, released: 1 });
    }
    expect(bus.subscriberCount).toBe(0);
  });

  it("a reference watch is keyed to its tenant and reference", async () => {
    const { seen, sink } = recorder();
    const control = openWatch(context, { clientReference: "r", tenant: "default" }, await latestSequence(), sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    await push(inbound("ring", CallState.RINGING));
    await vi.waitFor(() => expect(seen.events.map((e) => e.state)).toEqual([CallState.RINGING]));
    control.cancel();
    expect(bus.keyCount).toBe(0);
  });
});
