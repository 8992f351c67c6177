/**
 * The commit-order trap: a sequence value is drawn at INSERT, not at COMMIT. If writer X
 * draws 41, writer Y draws 42 and commits first, a watcher that reads 42 and resumes
 * "after 42" never sees 41. Writers run in parallel (Y does not wait for X); the store's
 * readers must stop at the event horizon (src/store/postgres/visibility.ts). With the
 * horizon switched off (test-only option) the same script loses X's event, and the
 * simpler rule "xact_id below the snapshot's xmin" is shown to lose it too.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/index.js";
import { EVENT_HORIZON_SQL } from "../../src/store/postgres/visibility.js";
import { testKeyring } from "../support/keyring.js";
import { ADMIN_URL, describePostgres, useTestDatabase } from "../support/postgres.js";

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

/** The newest committed sequence of a client reference, read without the horizon. */
async function newest(store: PostgresStore, ref: string): Promise<number> {
  const { rows } = await store.pool.query<{ top: number }>(
    "SELECT COALESCE(MAX(sequence), 0) AS top FROM events WHERE client_reference = $1",
    [ref],
  );
  return rows[0]?.top ?? 0;
}

/** Waits until every event up to `sequence` is below the horizon: a read then gets them all. */
async function final(store: PostgresStore, sequence: number): Promise<void> {
  await until(async () => {
    const { rows } = await store.pool.query<{ upto: number }>(`SELECT ${EVENT_HORIZON_SQL} AS upto`);
    return (rows[0]?.upto ?? 0) >= sequence;
  });
}

describePostgres("PostgreSQL event sequences become readable in commit order", () => {
  const db = useTestDatabase();
  const stores: PostgresStore[] = [];
  const open = async (options: { applicationName: string } & Partial<PostgresStoreOptions>): Promise<PostgresStore> => {
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
   * X inserts first and is held open before COMMIT; Y inserts after and commits first; a
   * watcher reads in between and then resumes from the last sequence it saw.
   */
  async function runTrap(eventHorizon: boolean): Promise<{
    seen: EventRecord[];
    stored: EventRecord[];
    x: string;
  }> {
    const ref = `trap-${randomUUID()}`;
    let holdCall: string | undefined;
    const xReady = deferred();
    const releaseX = deferred();
    const store = await open({
      applicationName: `voicecode-trap-${eventHorizon ? "on" : "off"}`,
      eventHorizon,
      // The read in between finds Y above the horizon for as long as X is held: no need
      // to wait the default second for it.
      horizonWaitMs: 20,
      async beforeCommit({ events }) {
        if (holdCall !== undefined && events.some((e) => e.callId === holdCall)) {
          xReady.resolve();
          await releaseX.promise;
        }
      },
    });
    const x = await acceptedCall(store, ref);
    const y = await acceptedCall(store, ref);
    const start = await newest(store, ref);
    let cursor = start;

    const traffic = startLoad(4);
    try {
      holdCall = x.callId;
      let xFinished = false;
      const xDone = store.ingest(PROVIDER, [push(x.pc, CallState.RINGING)], NOW).finally(() => {
        xFinished = true;
      });
      await xReady.promise; // X has drawn its sequence and holds its transaction open

      // Y commits while X is still open: writers do not wait for each other.
      await store.ingest(PROVIDER, [push(y.pc, CallState.RINGING)], NOW);
      expect(xFinished).toBe(false);

      // The watcher reads now, remembers where it got to, and disconnects.
      const seen = await store.listEvents({ clientReference: ref }, cursor, 100);
      cursor = seen.at(-1)?.sequence ?? cursor;

      releaseX.resolve();
      await xDone;
      await final(store, await newest(store, ref));

      // It resumes with after_sequence = the last sequence it saw.
      seen.push(...(await store.listEvents({ clientReference: ref }, cursor, 100)));
      return { seen, stored: await load.listEvents({ clientReference: ref }, start, 100), x: x.callId };
    } finally {
      releaseX.resolve();
      expect(await traffic.stop()).toBeGreaterThan(0);
    }
  }

  it("with the event horizon, a watcher resuming between two out-of-order writers misses nothing", async () => {
    const { seen, stored, x } = await runTrap(true);
    expect(stored.map((e) => e.state)).toEqual([CallState.RINGING, CallState.RINGING]);
    // X drew the lower sequence but committed last.
    expect(stored[0]?.callId).toBe(x);
    expect(seen).toEqual(stored);
  });

  it("without it (test-only switch), the same script loses X's event: the test has teeth", async () => {
    const { seen, stored, x } = await runTrap(false);
    // X drew the lower sequence but committed last, behind the watcher's cursor.
    const xEvent = stored.find((e) => e.callId === x);
    expect(xEvent?.sequence).toBe(stored[0]?.sequence);
    expect(seen.map((e) => e.sequence)).not.toContain(xEvent?.sequence);
  });

  it("'xact_id below the snapshot's xmin' alone would lose an event whose writer got its id later but drew first", async () => {
    const ref = `xmin-${randomUUID()}`;
    const store = await open({ applicationName: "voicecode-xmin", horizonWaitMs: 20 });
    const { callId } = await acceptedCall(store, ref);
    const before = await newest(store, ref);
    const session = async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: db.url });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    };
    const insert = async (client: pg.Client, state: CallState): Promise<number> => {
      const { rows } = await client.query<{ sequence: string }>(
        `INSERT INTO events (call_id, client_reference, state, failure_reason, provider,
           provider_call_id, provider_code, provider_text, recorded_at_ms)
         VALUES ($1, $2, $3, 0, $4, 'pc', 'c', '', $5) RETURNING sequence`,
        [callId, ref, state, PROVIDER, NOW],
      );
      return Number(rows[0]?.sequence);
    };
    const [y, x] = [await session(), await session()];
    try {
      // Y gets its transaction id first (as ingest does by storing the push), X second;
      // then X draws first and Y second, and Y commits while X stays open.
      await y.query("BEGIN");
      await y.query("SELECT pg_current_xact_id()");
      await x.query("BEGIN");
      const xSequence = await insert(x, CallState.DIALING);
      const ySequence = await insert(y, CallState.RINGING);
      await y.query("COMMIT");
      expect(ySequence).toBeGreaterThan(xSequence);

      // The naive rule hands out Y's event while X's lower one can still commit, so a
      // resume after it skips X's. (Polled: an unrelated transaction elsewhere on the
      // server may hold xmin back for a moment; X, open, holds it back for good.)
      let naive: number[] = [];
      await until(async () => {
        const { rows } = await store.pool.query<{ sequence: number }>(
          `SELECT sequence FROM events WHERE client_reference = $1 AND sequence > $2
             AND xact_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY sequence`,
          [ref, before],
        );
        naive = rows.map((r) => r.sequence);
        return naive.length > 0;
      });
      expect(naive).toEqual([ySequence]);
      // The horizon does not.
      expect(await store.listEvents({ clientReference: ref }, before, 10)).toEqual([]);

      await x.query("COMMIT");
      await final(store, ySequence);
      expect((await store.listEvents({ clientReference: ref }, before, 10)).map((e) => e.sequence)).toEqual([
        xSequence,
        ySequence,
      ]);
    } finally {
      await x.end();
      await y.end();
    }
  });

  it("is not held back by a write transaction open in another database on the same server", async () => {
    const store = await open({ applicationName: "voicecode-neighbour" });
    const ref = `neighbour-${randomUUID()}`;
    const neighbour = new pg.Client({ connectionString: ADMIN_URL });
    neighbour.on("error", () => undefined);
    await neighbour.connect();
    try {
      // Another program's long transaction, in another database: it holds the server-wide
      // xmin back, but can never draw from our sequence.
      await neighbour.query("BEGIN");
      await neighbour.query("SELECT pg_current_xact_id()");
      await acceptedCall(store, ref);
      expect((await store.listEvents({ clientReference: ref }, 0, 10)).map((e) => e.state)).toEqual([CallState.ACCEPTED]);
    } finally {
      await neighbour.query("ROLLBACK");
      await neighbour.end();
    }
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
    const page = async (): Promise<number> => {
      const events = await store.listEvents({ clientReference: ref }, cursor, 3);
      seen.push(...events);
      cursor = events.at(-1)?.sequence ?? cursor;
      return events.length;
    };
    while (writing) await page();
    await writers;
    // Writers done: once the last of their events is final, the reader drains the rest.
    await final(store, await newest(store, ref));
    while ((await page()) > 0) {}

    const stored = await store.listEvents({ clientReference: ref }, start, 1000);
    expect(stored).toHaveLength(calls.length * 4);
    expect(seen).toEqual(stored);
  });
});
