/**
 * A replica frozen inside a store transaction (SIGSTOP, a partition): the server hears
 * nothing more from it, its session sits "idle in transaction" holding what it locked and
 * an event it drew. Other replicas' Sends and webhooks must not wait for it at all; their
 * watchers may not pass its event (it could still commit below theirs), and get going
 * again once the server ends the frozen session (idle_in_transaction_session_timeout).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import { createPostgresBus } from "../../src/bus/postgres-bus.js";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { createWatchDrain } from "../../src/streams/drain.js";
import { watchEvents } from "../../src/streams/watch-events.js";
import { testKeyring } from "../support/keyring.js";
import { adminQuery, describePostgres, useTestDatabase } from "../support/postgres.js";

const PROVIDER = "sandbox";
const NOW = 1_700_000_000_000;

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(5);
}

function push(pc: string, state: CallState): InboundEvent {
  return {
    dedupeKey: `${pc}:${state}`,
    providerCallId: pc,
    callId: undefined,
    state,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode: "c",
    providerText: "",
    occurredAtMs: undefined,
  };
}

describePostgres("a replica frozen mid-transaction", () => {
  const db = useTestDatabase();
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function send(store: PostgresStore, ref: string): Promise<{ callId: string; pc: string }> {
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

  /** The frozen replica's session, as the server sees it: open, idle, in a transaction. */
  const frozenSessionOpen = async (): Promise<boolean> =>
    (
      await adminQuery(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'frozen'
           AND state = 'idle in transaction'`,
        [db.name],
      )
    ).length > 0;

  it("delays no one else's writes, and other replicas' watchers only until the server ends its session", async () => {
    const freeze = { reached: deferred(), thaw: deferred() };
    const frozen = await createPostgresStore({
      connectionString: db.url,
      keyring: testKeyring(),
      applicationName: "frozen",
      idleInTransactionTimeoutMs: 1500,
      async beforeCommit({ method }) {
        if (method !== "ingest") return;
        freeze.reached.resolve();
        await freeze.thaw.promise; // SIGSTOP: not a byte more to the server
      },
    });
    cleanup.push(() => frozen.close());
    cleanup.push(async () => freeze.thaw.resolve());
    const healthy = await createPostgresStore({
      connectionString: db.url,
      keyring: testKeyring(),
      applicationName: "healthy",
    });
    cleanup.push(() => healthy.close());
    // Long periodic catch-up: a delivery below comes from NOTIFY or the bus's own re-read.
    const bus = createPostgresBus({ connectionString: db.url, applicationName: "healthy-listener", catchUpMs: 60_000 });
    await bus.start();
    cleanup.push(() => bus.close());

    const ref = `frozen-${randomUUID()}`;
    const victim = await send(healthy, ref);
    const other = await send(healthy, ref);
    const from = (await healthy.listEvents({ clientReference: ref }, 0, 10)).at(-1)?.sequence ?? 0;
    expect(from).toBeGreaterThan(0);

    const abort = new AbortController();
    const seen: EventRecord[] = [];
    const watching = (async () => {
      for await (const event of watchEvents({
        store: healthy,
        bus,
        target: { clientReference: ref, tenant: "default" },
        afterSequence: from,
        signal: abort.signal,
        drain: createWatchDrain(),
      })) {
        seen.push(event);
      }
    })();
    cleanup.push(async () => {
      abort.abort();
      await watching;
    });

    // The frozen replica draws a sequence for the victim's callback and stops.
    const stuck = frozen.ingest(PROVIDER, [push(victim.pc, CallState.RINGING)], NOW);
    stuck.catch(() => undefined); // asserted below
    await freeze.reached.promise;

    // Meanwhile, on the healthy replica, a Send and a callback for another call complete.
    const sent = await send(healthy, ref);
    const callback = await healthy.ingest(PROVIDER, [push(other.pc, CallState.RINGING)], NOW);
    expect(callback.appended.map((e) => e.state)).toEqual([CallState.RINGING]);
    // ...while the frozen session was open all along: they waited for nothing of it.
    expect(await frozenSessionOpen()).toBe(true);

    // Its drawn sequence is below theirs and may still commit: no reader may pass it yet.
    const pending = await healthy.listEvents({ clientReference: ref }, from, 10);
    expect(await frozenSessionOpen()).toBe(true);
    expect(pending).toEqual([]);

    // The server ends the frozen session; the watcher then gets the healthy replica's events.
    await until(async () => !(await frozenSessionOpen()));
    await until(() => seen.length >= 2);
    const stored = await healthy.listEvents({ clientReference: ref }, from, 10);
    expect(stored.map((e) => [e.callId, e.state])).toEqual([
      [sent.callId, CallState.ACCEPTED],
      [other.callId, CallState.RINGING],
    ]);
    expect(seen).toEqual(stored);

    // The frozen replica, thawed, finds its transaction gone: nothing of it was kept.
    freeze.thaw.resolve();
    await expect(stuck).rejects.toThrow();
    expect(await healthy.getCall(victim.callId)).toMatchObject({ state: CallState.ACCEPTED });
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
