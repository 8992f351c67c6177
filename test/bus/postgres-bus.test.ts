/**
 * The PostgreSQL bus: NOTIFY fan-out between replicas, catch-up after the listener is
 * killed, and the periodic catch-up for events whose NOTIFY never came. Watchers here are
 * the real WatchStatus reader (watchEvents), so "every event, once, in order" is checked
 * end to end.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import { createPostgresBus, type PostgresBus, type PostgresBusOptions } from "../../src/bus/postgres-bus.js";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { watchEvents } from "../../src/streams/watch-events.js";
import {
  backendPids,
  describePostgres,
  terminateBackends,
  useTestDatabase,
} from "../support/postgres.js";

const PROVIDER = "sandbox";
const NOW = 1_700_000_000_000;
const LIFECYCLE = [CallState.DIALING, CallState.RINGING, CallState.ANSWERED, CallState.COMPLETED];

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(5);
}

describePostgres("PostgreSQL bus", () => {
  const db = useTestDatabase();
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function replica(name: string, bus: Partial<PostgresBusOptions> = {}) {
    const store = await createPostgresStore({ connectionString: db.url, poolSize: 4 });
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
        target: { clientReference: ref },
        afterSequence,
        signal: abort.signal,
        drainSignal: new AbortController().signal,
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

  it("stops for good on close: no reconnect, no timers", async () => {
    const { bus } = await replica("closing");
    expect(bus.listening).toBe(true);
    await bus.close();
    await bus.close();
    expect(bus.listening).toBe(false);
    expect(await backendPids(db.name, "listener-closing")).toEqual([]);
  });
});
