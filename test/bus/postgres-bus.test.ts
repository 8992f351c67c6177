/**
 * The PostgreSQL bus: NOTIFY fan-out between replicas, catch-up after the listener is
 * killed, and the periodic catch-up for events whose NOTIFY never came. Watchers here are
 * the real WatchStatus reader (watchEvents), so "every event, once, in order" is checked
 * end to end.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import type { EventNotice } from "../../src/bus/bus.js";
import { createPostgresBus, type PostgresBus, type PostgresBusOptions } from "../../src/bus/postgres-bus.js";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { createWatchDrain } from "../../src/streams/drain.js";
import { watchEvents } from "../../src/streams/watch-events.js";
import {
  backendPids,
  describePostgres,
  terminateBackends,
  useTestDatabase,
} from "../support/postgres.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
import { testKeyring } from "../support/keyring.js";

const PROVIDER = "sandbox";
const NOW = 1_700_000_000_000;
const LIFECYCLE = [CallState.DIALING, CallState.RINGING, CallState.ANSWERED, CallState.COMPLETED];

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(5);
}

/**
 * For what the code under test must do by itself, and would otherwise never do: fails
 * after `ms` (generous, against a 2-core CI machine) instead of hanging to the test timeout.
 */
async function within<T>(ms: number, what: string, work: Promise<T> | (() => boolean)): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  if (typeof work === "function") {
    while (!work()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
      await sleep(5);
    }
    return undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

describePostgres("PostgreSQL bus", () => {
  const db = useTestDatabase();
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function replica(name: string, bus: Partial<PostgresBusOptions> = {}) {
    const store = await createPostgresStore({ connectionString: db.url, poolSize: 4, keyring: testKeyring() });
    cleanup.push(() => store.close());
    const pgBus = createPostgresBus({
      connectionString: db.url,
      applicationName: `listener-${name}`,
      // Long by default: a delivery in these tests must come from NOTIFY or a reconnect.
      catchUpMs: 60_000,
      reconnectMinMs: 20,
      ...bus,
    });
    await pgBus.start();
    cleanup.push(() => pgBus.close());
    return { store, bus: pgBus };
  }

  async function acceptedCall(store: PostgresStore, ref: string): Promise<{ callId: string; pc: string }> {
    const callId = `call-${randomUUID()}`;
    const pc = `pc-${randomUUID()}`;
    await store.createCall({
      callId,
      provider: PROVIDER,
      phoneMasked: "+86*******0000",
      playTimes: 1,
      clientReference: ref,
      metadata: {},
      idempotencyKey: "",
      requestHash: "h",
      nowMs: NOW,
    });
    await store.recordSendResult(callId, { kind: "accepted", providerCallId: pc, providerCode: "0", providerText: "" }, NOW);
    return { callId, pc };
  }

  const progress = (store: PostgresStore, pc: string, state: CallState) =>
    store.ingest(
      PROVIDER,
      [
        {
          dedupeKey: `${pc}:${state}`,
          providerCallId: pc,
          callId: undefined,
          state,
          failureReason: FailureReason.UNSPECIFIED,
          providerCode: "c",
          providerText: "",
          occurredAtMs: undefined,
        },
      ],
      NOW,
    );

  /** A client-reference watch on one replica, collecting until stopped. */
  function watch(store: PostgresStore, bus: PostgresBus, ref: string, afterSequence = 0) {
    const abort = new AbortController();
    const seen: EventRecord[] = [];
    const done = (async () => {
      for await (const event of watchEvents({
        store,
        bus,
        target: { clientReference: ref, tenant: "default" },
        afterSequence,
        signal: abort.signal,
        drain: createWatchDrain(),
      })) {
        seen.push(event);
      }
    })();
    cleanup.push(async () => {
      abort.abort();
      await done;
    });
    return { seen, stop: () => abort.abort(), done };
  }

  it("publishes local notices to local subscribers at once", async () => {
    const { bus } = await replica("local");
    const got: number[] = [];
    const unsubscribe = bus.subscribe((n) => got.push(n.sequence));
    expect(bus.subscriberCount).toBe(1);
    bus.publish([{ sequence: 7, callId: "c", clientReference: "r" }]);
    expect(got).toEqual([7]);
    unsubscribe();
    expect(bus.subscriberCount).toBe(0);
  });

  it("wakes a watcher on replica B for events written on replica A, in order", async () => {
    const a = await replica("a");
    const b = await replica("b");
    const ref = `fanout-${randomUUID()}`;
    const watcher = watch(b.store, b.bus, ref);
    const { pc } = await acceptedCall(a.store, ref);
    for (const state of LIFECYCLE) await progress(a.store, pc, state);

    await until(() => watcher.seen.length === 5);
    const stored = await a.store.listEvents({ clientReference: ref }, 0, 100);
    expect(watcher.seen).toEqual(stored);
    expect(watcher.seen.map((e) => e.state)).toEqual([CallState.ACCEPTED, ...LIFECYCLE]);
  });

  it("notices read from the log carry their events as the store reads them, in batches without gaps", async () => {
    const a = await replica("carrier-a");
    const b = await replica("carrier-b");
    const start = b.bus.announcedThrough;
    const got: EventNotice[] = [];
    cleanup.push(async () => unsubscribe());
    const unsubscribe = b.bus.subscribe((n) => got.push(n));
    const ref = `carried-${randomUUID()}`;
    const { pc } = await acceptedCall(a.store, ref);
    for (const state of LIFECYCLE) await progress(a.store, pc, state);
    await until(() => got.length === 5);
    const stored = await a.store.listEvents({ clientReference: ref }, 0, 100);
    expect(got.map((n) => n.carried?.event)).toEqual(stored);
    // Each batch starts where the one before it ended (the first, where the bus started).
    let previous = start;
    for (const [i, n] of got.entries()) {
      const since = n.carried?.since;
      const batchStart = i > 0 && got[i - 1]?.carried?.since === since;
      expect(since).toBe(batchStart ? got[i - 1]?.carried?.since : previous);
      previous = n.sequence;
    }
    expect(b.bus.announcedThrough).toBe(stored.at(-1)?.sequence);
    // This process's own publish carries nothing: a watch reads the store for it.
    const local: EventNotice[] = [];
    const off = a.bus.subscribe((n) => local.push(n));
    a.bus.publish([{ sequence: 1, callId: "c", clientReference: "r" }]);
    off();
    expect(local[0]?.carried).toBeUndefined();
  });

  it("loses nothing when its listener connection is killed mid-stream", async () => {
    const a = await replica("writer");
    const b = await replica("victim", { reconnectMinMs: 100 });
    const ref = `kill-${randomUUID()}`;
    const watchers = [watch(b.store, b.bus, ref), watch(b.store, b.bus, ref)];
    const calls = await Promise.all(Array.from({ length: 6 }, () => acceptedCall(a.store, ref)));
    const [before] = await backendPids(db.name, "listener-victim");

    let killed = false;
    for (const [i, state] of LIFECYCLE.entries()) {
      for (const { pc } of calls) await progress(a.store, pc, state);
      if (i === 1) {
        expect(await terminateBackends(db.name, "listener-victim")).toBe(1);
        killed = true;
        // Written while B has no listener: their NOTIFYs reach nobody on B.
        await until(() => !b.bus.listening);
      }
    }
    expect(killed).toBe(true);

    const stored = await a.store.listEvents({ clientReference: ref }, 0, 1000);
    expect(stored).toHaveLength(calls.length * 5);
    for (const watcher of watchers) {
      await until(() => watcher.seen.length >= stored.length);
      expect(watcher.seen).toEqual(stored);
    }
    const after = await backendPids(db.name, "listener-victim");
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
  });

  it("delivers events whose NOTIFY never came through the periodic catch-up", async () => {
    const writer = await replica("silent-writer");
    const b = await replica("catch-up", { catchUpMs: 50 });
    const ref = `lost-${randomUUID()}`;
    const { callId } = await acceptedCall(writer.store, ref);
    const watcher = watch(b.store, b.bus, ref);
    await until(() => watcher.seen.length === 1);

    // Committed without pg_notify, as if the writer died between commit and notify.
    await writer.store.pool.query(
      `INSERT INTO events (call_id, client_reference, state, failure_reason, provider,
         provider_call_id, provider_code, provider_text, recorded_at_ms)
       VALUES ($1, $2, $3, 0, $5, 'pc', 'c', '', $6), ($1, $2, $4, 0, $5, 'pc', 'c', '', $6)`,
      [callId, ref, CallState.DIALING, CallState.RINGING, PROVIDER, NOW],
    );
    await until(() => watcher.seen.length === 3);
    expect(watcher.seen.map((e) => e.state)).toEqual([CallState.ACCEPTED, CallState.DIALING, CallState.RINGING]);
    expect(watcher.seen).toEqual(await writer.store.listEvents({ clientReference: ref }, 0, 100));
  });

  /** A proxy to this test's server that the test can break; closed after the test. */
  async function brokenNetwork(): Promise<TcpProxy> {
    const server = new URL(db.url);
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
    cleanup.push(() => proxy.close());
    return proxy;
  }

  it("gives up a reconnect the server never answers and tries again", async () => {
    const proxy = await brokenNetwork();
    const writer = await replica("hole-writer");
    // Backoff capped low: on a slow machine an extra attempt or two may land in the hole first.
    const b = await replica("hole", { connectionString: proxy.url(db.url), timeoutMs: 300, reconnectMaxMs: 200 });
    const ref = `hole-${randomUUID()}`;
    const watcher = watch(b.store, b.bus, ref);
    const { pc } = await acceptedCall(writer.store, ref);
    await until(() => watcher.seen.length === 1);

    proxy.mode = "hole";
    expect(await terminateBackends(db.name, "listener-hole")).toBe(1);
    await within(5000, "reconnect attempt reaches the hole", () => proxy.held > 0);
    await progress(writer.store, pc, CallState.DIALING);
    proxy.mode = "forward";

    // The attempt stuck in the hole must time out; the next one gets through and catches up.
    await within(5000, "listener back", () => b.bus.listening);
    await within(5000, "event written while away", () => watcher.seen.length === 2);
    expect(watcher.seen).toEqual(await writer.store.listEvents({ clientReference: ref }, 0, 100));
  });

  it("close() during a reconnect the server never answers leaves no connection behind", async () => {
    const proxy = await brokenNetwork();
    // The default connect timeout (10 s): close() itself must end the attempt.
    const { bus } = await replica("hole-close", { connectionString: proxy.url(db.url) });
    proxy.mode = "hole";
    expect(await terminateBackends(db.name, "listener-hole-close")).toBe(1);
    await within(5000, "reconnect attempt reaches the hole", () => proxy.held > 0);

    await within(2000, "close()", bus.close());
    await within(2000, "held connection closed", () => proxy.held === 0);
  });

  it("abandons a catch-up read that never gets an answer, delivers with the next, and still closes", async () => {
    const proxy = await brokenNetwork();
    const writer = await replica("frozen-writer");
    const b = await replica("frozen", { connectionString: proxy.url(db.url), timeoutMs: 300, catchUpMs: 50 });
    const ref = `frozen-${randomUUID()}`;
    const watcher = watch(b.store, b.bus, ref);
    const { pc } = await acceptedCall(writer.store, ref);
    await until(() => watcher.seen.length === 1);

    // Half-open network: the listener hears nothing more, and the reader's next query
    // (the periodic catch-up, on its pooled connection) never gets an answer.
    proxy.freeze();
    await progress(writer.store, pc, CallState.DIALING);
    await within(5000, "event delivered by a later catch-up", () => watcher.seen.length === 2);
    expect(watcher.seen).toEqual(await writer.store.listEvents({ clientReference: ref }, 0, 100));

    // The listener's connection is still frozen: a polite goodbye would wait forever.
    await within(3000, "close()", b.bus.close());
  });

  it("stops for good on close: no reconnect, no timers", async () => {
    const { bus } = await replica("closing");
    expect(bus.listening).toBe(true);
    await bus.close();
    await bus.close();
    expect(bus.listening).toBe(false);
    expect(await backendPids(db.name, "listener-closing")).toEqual([]);
  });
});
