/**
 * The commit-order trap: a sequence value is drawn at INSERT, not at COMMIT. If writer X
 * draws 41, writer Y draws 42 and commits first, a watcher that reads 42 and resumes
 * "after 42" never sees 41. The store's event-order lock must make that impossible; with
 * the lock switched off (test-only option) the same script loses X's event.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import type { TransactionHooks } from "../../src/store/postgres/transaction.js";
import { adminQuery, describePostgres, useTestDatabase } from "../support/postgres.js";
import { testKeyring } from "../support/keyring.js";

const PROVIDER = "sandbox";
const NOW = 1_700_000_000_000;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function push(providerCallId: string, state: CallState, tag = ""): InboundEvent {
  return {
    dedupeKey: `${providerCallId}:${state}${tag}`,
    providerCallId,
    callId: undefined,
    state,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode: "c",
    providerText: "",
    occurredAtMs: undefined,
  };
}

/** Creates and accepts a call; returns its provider call id. */
async function acceptedCall(store: PostgresStore, clientReference: string): Promise<{ callId: string; pc: string }> {
  const callId = `call-${randomUUID()}`;
  const pc = `pc-${randomUUID()}`;
  await store.createCall({
    callId,
    provider: PROVIDER,
    phoneMasked: "+86*******0000",
    playTimes: 1,
    clientReference,
    metadata: {},
    idempotencyKey: "",
    requestHash: "h",
    nowMs: NOW,
  });
  await store.recordSendResult(callId, { kind: "accepted", providerCallId: pc, providerCode: "0", providerText: "" }, NOW);
  return { callId, pc };
}

/** Polls until `check` holds; the loop is bounded by the test timeout, not by a clock. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(5);
}

describePostgres("PostgreSQL event sequences become visible in commit order", () => {
  const db = useTestDatabase();
  const stores: PostgresStore[] = [];
  const open = async (options: { applicationName: string } & TransactionHooks): Promise<PostgresStore> => {
    const store = await createPostgresStore({ connectionString: db.url, poolSize: 6, keyring: testKeyring(), ...options });
    stores.push(store);
    return store;
  };
  let load: PostgresStore;
  beforeAll(async () => {
    load = await open({ applicationName: "voicecode-load" });
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  /** Other replicas writing all the time, each on its own call. */
  function startLoad(writers: number): { stop: () => Promise<number> } {
    let stopped = false;
    let written = 0;
    const loops = Array.from({ length: writers }, async (_, w) => {
      while (!stopped) {
        const { pc } = await acceptedCall(load, `load-${w}`);
        for (const state of [CallState.DIALING, CallState.RINGING, CallState.ANSWERED, CallState.COMPLETED]) {
          written += (await load.ingest(PROVIDER, [push(pc, state)], NOW)).appended.length;
        }
      }
    });
    return {
      async stop() {
        stopped = true;
        await Promise.all(loops);
        return written;
      },
    };
  }

  /**
   * X inserts first and is held open before COMMIT; Y inserts after and tries to commit
   * first; a watcher reads in between and then resumes from the last sequence it saw.
   */
  async function runTrap(eventOrderLock: boolean): Promise<{
    seen: EventRecord[];
    stored: EventRecord[];
    x: string;
    yWaitedForX: boolean;
  }> {
    const app = `voicecode-trap-${eventOrderLock ? "on" : "off"}`;
    const ref = `trap-${randomUUID()}`;
    let holdCall: string | undefined;
    const xReady = deferred();
    const releaseX = deferred();
    const store = await open({
      applicationName: app,
      eventOrderLock,
      async beforeCommit({ events }) {
        if (holdCall !== undefined && events.some((e) => e.callId === holdCall)) {
          xReady.resolve();
          await releaseX.promise;
        }
      },
    });
    const x = await acceptedCall(store, ref);
    const y = await acceptedCall(store, ref);
    const history = await store.listEvents({ clientReference: ref }, 0, 100);
    let cursor = history.at(-1)?.sequence ?? 0;

    const traffic = startLoad(4);
    try {
      holdCall = x.callId;
      const xDone = store.ingest(PROVIDER, [push(x.pc, CallState.RINGING)], NOW);
      await xReady.promise; // X has drawn its sequence and holds its transaction open

      let yFinished = false;
      const yDone = store.ingest(PROVIDER, [push(y.pc, CallState.RINGING)], NOW).finally(() => {
        yFinished = true;
      });
      // Either Y commits (no lock) or it queues behind X on the event-order lock.
      let yWaitedForX = false;
      await until(async () => {
        if (yFinished) return true;
        const waiting = await adminQuery(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
             AND application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
          [app],
          db.url,
        );
        yWaitedForX = waiting.length > 0;
        return yWaitedForX;
      });

      // The watcher reads now, remembers where it got to, and disconnects.
      const seen = await store.listEvents({ clientReference: ref }, cursor, 100);
      cursor = seen.at(-1)?.sequence ?? cursor;

      releaseX.resolve();
      await Promise.all([xDone, yDone]);

      // It resumes with after_sequence = the last sequence it saw.
      seen.push(...(await store.listEvents({ clientReference: ref }, cursor, 100)));
      const stored = await store.listEvents({ clientReference: ref }, history.at(-1)?.sequence ?? 0, 100);
      return { seen, stored, x: x.callId, yWaitedForX };
    } finally {
      expect(await traffic.stop()).toBeGreaterThan(0);
    }
  }

  it("with the event-order lock, a watcher resuming between two out-of-order writers misses nothing", async () => {
    const { seen, stored, yWaitedForX } = await runTrap(true);
    expect(yWaitedForX).toBe(true);
    expect(stored.map((e) => e.state)).toEqual([CallState.RINGING, CallState.RINGING]);
    expect(seen).toEqual(stored);
  });

  it("without it (test-only switch), the same script loses X's event: the test has teeth", async () => {
    const { seen, stored, x, yWaitedForX } = await runTrap(false);
    expect(yWaitedForX).toBe(false);
    // X drew the lower sequence but committed last, behind the watcher's cursor.
    const xEvent = stored.find((e) => e.callId === x);
    expect(xEvent?.sequence).toBe(stored[0]?.sequence);
    expect(seen.map((e) => e.sequence)).not.toContain(xEvent?.sequence);
  });

  it("under concurrent writers with random commit delays, a resuming reader sees every event once, in order", async () => {
    const ref = `stress-${randomUUID()}`;
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const store = await open({
      applicationName: "voicecode-stress",
      // Hold each transaction open for a varying number of turns so commits interleave.
      async beforeCommit() {
        const turns = Math.floor(random() * 4);
        for (let i = 0; i < turns; i++) await sleep(0);
      },
    });
    const calls = await Promise.all(Array.from({ length: 8 }, () => acceptedCall(store, ref)));
    const start = (await store.listEvents({ clientReference: ref }, 0, 1000)).at(-1)?.sequence ?? 0;

    let writing = true;
    const writers = Promise.all(
      calls.map(async ({ pc }) => {
        for (const state of [CallState.DIALING, CallState.RINGING, CallState.ANSWERED, CallState.COMPLETED]) {
          await store.ingest(PROVIDER, [push(pc, state)], NOW);
        }
      }),
    ).finally(() => {
      writing = false;
    });

    // The reader pages in small batches and "reconnects" after every page.
    const seen: EventRecord[] = [];
    let cursor = start;
    for (;;) {
      const done = !writing;
      const page = await store.listEvents({ clientReference: ref }, cursor, 3);
      seen.push(...page);
      cursor = page.at(-1)?.sequence ?? cursor;
      if (done && page.length === 0) break;
    }
    await writers;

    const stored = await store.listEvents({ clientReference: ref }, start, 1000);
    expect(stored).toHaveLength(calls.length * 4);
    expect(seen).toEqual(stored);
  });
});
