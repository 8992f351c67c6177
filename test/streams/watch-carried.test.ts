/**
 * Notices that carry their events (a bus that reads the log in order, as postgres-bus.ts
 * does): an up-to-date watch takes its event from the notice instead of reading the
 * store, and every other case still reads, so nothing is skipped, repeated or reordered.
 * The bus here is a local bus plus the log-order rules: batches in sequence order, each
 * starting where the last one ended, `announcedThrough` moved before it is published.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Bus, type EventNotice, createLocalBus } from "../../src/bus/bus.js";
import { CallState, type EventRecord, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { type WatchDrainSwitch, createWatchDrain } from "../../src/streams/drain.js";
import { type WatchContext, type WatchSink, openWatch } from "../../src/streams/watch.js";
import type { Store } from "../../src/store/store.js";
import { storeWithAcceptedCall } from "../support/watched-call.js";

const CALL = "01JDXYZABCDEFGHJKMNPQRSTVW";
const OTHER = "01JDXYZABCDEFGHJKMNPQRSTVX";

interface LogBus extends Bus {
  /** Announces the events as one batch, the way the PostgreSQL bus does. */
  announce(events: readonly EventRecord[]): void;
}

function createLogBus(start: number): LogBus {
  const local = createLocalBus();
  let announced = start;
  return {
    publish: (notices) => local.publish(notices),
    subscribe: (l) => local.subscribe(l),
    subscribeCall: (id, l) => local.subscribeCall(id, l),
    subscribeReference: (t, r, l) => local.subscribeReference(t, r, l),
    get subscriberCount() {
      return local.subscriberCount;
    },
    get announcedThrough() {
      return announced;
    },
    announce(events) {
      const since = announced;
      announced = events.at(-1)?.sequence ?? announced;
      local.publish(
        events.map((event): EventNotice => ({
          sequence: event.sequence,
          callId: event.callId,
          clientReference: event.clientReference,
          tenant: event.tenant,
          carried: { event, since },
        })),
      );
    },
  };
}

let store: Store;
let bus: LogBus;
let drain: WatchDrainSwitch;
let reads: number;
let context: WatchContext;

beforeEach(async () => {
  store = await storeWithAcceptedCall(CALL);
  await store.createCall({
    callId: OTHER,
    provider: "p",
    phoneMasked: "+86*******3333",
    playTimes: 2,
    clientReference: "other",
    metadata: {},
    idempotencyKey: "",
    requestHash: "h",
    nowMs: Date.now(),
  });
  await store.recordSendResult(OTHER, { kind: "accepted", providerCallId: "pc2", providerCode: "0", providerText: "" }, Date.now());
  bus = createLogBus(await top());
  drain = createWatchDrain();
  reads = 0;
  const counted: Store = Object.create(store) as Store;
  counted.listEvents = async (...args) => {
    reads++;
    return store.listEvents(...args);
  };
  context = { store: counted, bus, drain, refineGraceMs: 3_600_000 };
});
afterEach(() => store.close());

async function top(): Promise<number> {
  const mine = await store.listEvents({ callId: CALL }, 0, 100);
  const other = await store.listEvents({ callId: OTHER }, 0, 100);
  return Math.max(0, ...[...mine, ...other].map((e) => e.sequence));
}

const push = (key: string, state: CallState, providerCallId = "pc"): InboundEvent => ({
  dedupeKey: key,
  providerCallId,
  callId: undefined,
  state,
  failureReason: FailureReason.UNSPECIFIED,
  providerCode: key,
  providerText: "",
  occurredAtMs: undefined,
  provisional: false,
});

/** Stores the pushes; returns the events without announcing them. */
async function stored(...pushes: InboundEvent[]): Promise<readonly EventRecord[]> {
  const { appended } = await store.ingest("p", pushes, Date.now());
  return appended;
}

/** Stores one push; returns its event without announcing it. */
async function storedOne(p: InboundEvent): Promise<EventRecord> {
  const [event] = await stored(p);
  if (event === undefined) throw new Error("no event");
  return event;
}

function recorder(room = true) {
  const seen = { events: [] as EventRecord[], ended: 0, failures: [] as unknown[] };
  let full = !room;
  const sink: WatchSink = {
    event(event) {
      seen.events.push(event);
      return !full;
    },
    end: () => seen.ended++,
    fail: (err) => seen.failures.push(err),
    released: () => undefined,
  };
  return { seen, sink, setFull: (f: boolean) => (full = f) };
}

/** Opens a watch on CALL after everything so far and waits for its first read. */
async function idleWatch(sink: WatchSink) {
  const control = openWatch(context, { callId: CALL, tenant: "default" }, await top(), sink);
  await vi.waitFor(() => expect(reads).toBe(1));
  // Let the read loop let go of `running`.
  await new Promise((r) => setImmediate(r));
  return control;
}

describe("a watch offered notices that carry their events", () => {
  it("takes them without reading the store, in order, and ends at the terminal one", async () => {
    const { seen, sink } = recorder();
    await idleWatch(sink);
    bus.announce(await stored(push("ring", CallState.RINGING)));
    bus.announce(await stored(push("answer", CallState.ANSWERED), push("done", CallState.COMPLETED)));
    expect(seen.events.map((e) => e.state)).toEqual([CallState.RINGING, CallState.ANSWERED, CallState.COMPLETED]);
    expect(seen.ended).toBe(1);
    expect(reads).toBe(1);
    expect(bus.subscriberCount).toBe(0);
  });

  it("other calls' batches in between do not make it read", async () => {
    const { seen, sink } = recorder();
    const control = await idleWatch(sink);
    bus.announce(await stored(push("o1", CallState.RINGING, "pc2")));
    bus.announce(await stored(push("ring", CallState.RINGING)));
    bus.announce(await stored(push("o2", CallState.ANSWERED, "pc2")));
    bus.announce(await stored(push("answer", CallState.ANSWERED)));
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer"]);
    expect(reads).toBe(1);
    control.cancel();
  });

  it("reads when a notice's batch starts before its last read did", async () => {
    const { seen, sink } = recorder();
    const control = await idleWatch(sink);
    const ring = await storedOne(push("ring", CallState.RINGING));
    bus.publish([{ ...toNotice(ring), carried: { event: ring, since: (bus.announcedThrough ?? 0) - 1 } }]);
    await vi.waitFor(() => expect(seen.events.map((e) => e.providerCode)).toEqual(["ring"]));
    expect(reads).toBe(2);
    control.cancel();
  });

  it("an event it already read (a call's read goes past the bus) is not delivered twice", async () => {
    const { seen, sink } = recorder();
    const control = await idleWatch(sink);
    const ring = await storedOne(push("ring", CallState.RINGING));
    // A notice without its event (this process's own publish) makes it read first.
    bus.publish([toNotice(ring)]);
    await vi.waitFor(() => expect(seen.events).toHaveLength(1));
    await new Promise((r) => setImmediate(r));
    bus.announce([ring]);
    bus.announce(await stored(push("answer", CallState.ANSWERED)));
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer"]);
    control.cancel();
  });

  it("once the sink is full it sends nothing more until resume(), then reads from the store", async () => {
    const { seen, sink, setFull } = recorder();
    const control = await idleWatch(sink);
    setFull(true);
    bus.announce(await stored(push("ring", CallState.RINGING)));
    expect(seen.events).toHaveLength(1);
    bus.announce(await stored(push("answer", CallState.ANSWERED)));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring"]);
    expect(reads).toBe(1);
    setFull(false);
    control.resume();
    await vi.waitFor(() => expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer"]));
    expect(reads).toBe(2);
    bus.announce(await stored(push("done", CallState.COMPLETED)));
    await vi.waitFor(() => expect(seen.ended).toBe(1));
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer", "done"]);
  });

  it("while a read is in flight, and on a draining server, it reads", async () => {
    const { seen, sink } = recorder();
    let release = (): void => undefined;
    const gated: Store = Object.create(context.store) as Store;
    gated.listEvents = async (...args) => {
      if (reads === 0) await new Promise<void>((r) => (release = r));
      return context.store.listEvents(...args);
    };
    const control = openWatch({ ...context, store: gated }, { callId: CALL, tenant: "default" }, await top(), sink);
    await vi.waitFor(() => expect(reads).toBe(0));
    const ring = await stored(push("ring", CallState.RINGING));
    // Announced while the first read waits: taken by a second read, not from the notice.
    await vi.waitFor(() => expect(release).not.toBe(undefined));
    bus.announce(ring);
    expect(seen.events).toHaveLength(0);
    release();
    await vi.waitFor(() => expect(seen.events.map((e) => e.providerCode)).toEqual(["ring"]));
    expect(reads).toBe(2);
    await new Promise((r) => setImmediate(r));
    drain.start();
    bus.announce(await stored(push("answer", CallState.ANSWERED)));
    await vi.waitFor(() => expect(seen.failures).toHaveLength(1));
    expect(seen.events).toHaveLength(1);
    control.cancel();
  });

  it("a notice that comes during a later read is left to that read: delivered once", async () => {
    const { seen, sink } = recorder();
    let during: (() => Promise<void>) | undefined;
    const gated: Store = Object.create(context.store) as Store;
    gated.listEvents = async (...args) => {
      const hook = during;
      during = undefined;
      // The read has its cursor; the event commits and is announced before it queries.
      if (hook !== undefined) await hook();
      return context.store.listEvents(...args);
    };
    const control = openWatch({ ...context, store: gated }, { callId: CALL, tenant: "default" }, await top(), sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    await new Promise((r) => setImmediate(r));
    during = async () => bus.announce(await stored(push("answer", CallState.ANSWERED)));
    const ring = await storedOne(push("ring", CallState.RINGING));
    // This process's own notice (nothing carried): a read.
    bus.publish([toNotice(ring)]);
    await vi.waitFor(() => expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer"]));
    await new Promise((r) => setImmediate(r));
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer"]);
    control.cancel();
  });

  it("a sink that throws on a carried event fails its own watch, and the next watch still gets the event", async () => {
    const throwing: WatchSink = {
      event() {
        throw new Error("stream gone");
      },
      end: () => undefined,
      fail: (err) => failures.push(err),
      released: () => undefined,
    };
    const failures: unknown[] = [];
    const first = await idleWatch(throwing);
    const { seen, sink } = recorder();
    const control = openWatch(context, { callId: CALL, tenant: "default" }, await top(), sink);
    await vi.waitFor(() => expect(reads).toBe(2));
    await new Promise((r) => setImmediate(r));
    bus.announce(await stored(push("ring", CallState.RINGING)));
    expect(failures).toHaveLength(1);
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring"]);
    bus.announce(await stored(push("answer", CallState.ANSWERED)));
    expect(seen.events.map((e) => e.providerCode)).toEqual(["ring", "answer"]);
    expect(bus.subscriberCount).toBe(1);
    first.cancel();
    control.cancel();
  });

  it("a reference watch takes its own tenant's events only", async () => {
    const { seen, sink } = recorder();
    const control = openWatch(context, { clientReference: "r", tenant: "default" }, await top(), sink);
    await vi.waitFor(() => expect(reads).toBe(1));
    await new Promise((r) => setImmediate(r));
    const ring = await storedOne(push("ring", CallState.RINGING));
    // An older replica's notice names no tenant, so it wakes every tenant's watch of "r";
    // an event of another tenant carried in it must not be handed over.
    const foreign = { ...ring, tenant: "acme", sequence: ring.sequence };
    bus.publish([{ sequence: ring.sequence, callId: ring.callId, clientReference: "r", carried: { event: foreign, since: bus.announcedThrough ?? 0 } }]);
    // The store read (scoped to the tenant) found the real one.
    await vi.waitFor(() => expect(seen.events.map((e) => e.tenant)).toEqual(["default"]));
    expect(reads).toBe(2);
    bus.announce(await stored(push("answer", CallState.ANSWERED)));
    await vi.waitFor(() => expect(seen.events).toHaveLength(2));
    control.cancel();
  });
});

function toNotice(event: EventRecord): EventNotice {
  return { sequence: event.sequence, callId: event.callId, clientReference: event.clientReference, tenant: event.tenant };
}
