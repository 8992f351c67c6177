/**
 * The PostgreSQL engine: the engine-neutral contract and property suites, plus what only
 * PostgreSQL has (migrations racing across replicas, a shared server, pools).
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import {
  applyMigrations,
  createPostgresStore,
  MIGRATIONS,
  type PostgresStore,
} from "../../src/store/postgres/index.js";
import { LOCK_NAMESPACE, MIGRATION_LOCK } from "../../src/store/postgres/constants.js";
import type { PostgresStoreOptions } from "../../src/store/postgres/postgres-store.js";
import {
  adminQuery,
  createTestDatabase,
  describePostgres,
  type TestDatabase,
  terminateBackends,
  useTestDatabase,
} from "../support/postgres.js";
import { describeAttemptsContract } from "./attempts-contract.js";
import { describeNotifyStoreContract } from "./notify-contract.js";
import { describeStoreContract } from "./store-contract.js";
import { describeStoreProperties } from "./store-properties.js";
import { createKeyring } from "../../src/secrets/keyring.js";
import { testKeyring } from "../support/keyring.js";
import { describeTenantContract } from "./store-tenants-contract.js";
import { describeVerificationContract } from "./verification-contract.js";

const NOW = 1_700_000_000_000;

function push(key: string, state: CallState, providerCode = "ok"): InboundEvent {
  return {
    dedupeKey: key,
    providerCallId: "pc-1",
    callId: undefined,
    state,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode,
    providerText: "",
    occurredAtMs: undefined,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Polls until `check` holds; bounded by the test timeout. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(5);
}

/** Resolves to "blocked" if `work` has not settled after `ms` (generous, for a loaded CI machine). */
async function settlesWithin<T>(ms: number, work: Promise<T>): Promise<T | "blocked"> {
  let timer: NodeJS.Timeout | undefined;
  const blocked = new Promise<"blocked">((resolve) => {
    timer = setTimeout(() => resolve("blocked"), ms);
  });
  try {
    return await Promise.race([work, blocked]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Uncaught exceptions while `work` runs. An unhandled 'error' event from a pg client is
 * one, and would end a production process; vitest reports it too, but only for the run.
 */
async function crashesDuring(work: () => Promise<void>): Promise<unknown[]> {
  const crashes: unknown[] = [];
  const record = (err: unknown): void => {
    crashes.push(err);
  };
  process.on("uncaughtException", record);
  try {
    await work();
    await sleep(50); // the socket's close comes after the server's FATAL message
  } finally {
    process.off("uncaughtException", record);
  }
  return crashes;
}

async function seedAcceptedCall(store: PostgresStore): Promise<void> {
  await store.createCall({
    callId: "call-1",
    provider: "sandbox",
    phoneMasked: "+86138****0000",
    playTimes: 1,
    clientReference: "ref-1",
    metadata: { k: "v" },
    idempotencyKey: "key-1",
    requestHash: "h",
    nowMs: NOW,
  });
  await store.recordSendResult(
    "call-1",
    { kind: "accepted", providerCallId: "pc-1", providerCode: "OK", providerText: "" },
    NOW + 1,
  );
}

describePostgres("PostgreSQL store (shared database)", () => {
  const db = useTestDatabase();
  const open = () => createPostgresStore({ connectionString: db.url, poolSize: 4, keyring: testKeyring() });
  describeStoreContract("postgres", open);
  describeAttemptsContract("postgres", open);
  describeNotifyStoreContract("postgres", open);
  describeStoreProperties("postgres", open);
  // Each open is its own pool: two instances are two replicas on one database.
  describeTenantContract("postgres", open, { replicas: true });
  describeVerificationContract(
    "postgres",
    (secret) => createPostgresStore({ connectionString: db.url, poolSize: 4, keyring: createKeyring(secret) }),
    { replicas: true },
  );
});

describePostgres("PostgreSQL store (fresh database per test)", () => {
  let db: TestDatabase;
  const stores: PostgresStore[] = [];
  const pools: pg.Pool[] = [];
  const openStore = async (options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => {
    const store = await createPostgresStore({ connectionString: db.url, poolSize: 3, keyring: testKeyring(), ...options });
    stores.push(store);
    return store;
  };
  /** Whether a session of `app` in this test's database is waiting for an advisory lock. */
  const waitingOnAdvisoryLock = async (app: string): Promise<boolean> =>
    (
      await adminQuery(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = $2
           AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
        [db.name, app],
      )
    ).length > 0;
  /** Whether a session of `app` in this test's database is waiting for any lock (a row's, here). */
  const waitingOnLock = async (app: string): Promise<boolean> =>
    (
      await adminQuery(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = $2
           AND wait_event_type = 'Lock'`,
        [db.name, app],
      )
    ).length > 0;
  /** Whether a session of `app` is open in a transaction and idle, as a frozen process's is. */
  const idleInTransaction = async (app: string): Promise<boolean> =>
    (
      await adminQuery(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = $2
           AND state = 'idle in transaction'`,
        [db.name, app],
      )
    ).length > 0;
  const rawPool = (): pg.Pool => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("error", () => undefined);
    pools.push(pool);
    return pool;
  };

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const pool of pools.splice(0)) await pool.end();
    await db.drop();
  });

  it("migrates once when several replicas open a fresh database at the same time", async () => {
    const opened = await Promise.all(Array.from({ length: 8 }, () => openStore()));
    expect(opened).toHaveLength(8);
    const { rows } = await rawPool().query<{ version: number }>(
      "SELECT version FROM schema_migrations ORDER BY version",
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));

    // And at the migration level: exactly one of the racers ran the steps.
    const fresh = await createTestDatabase();
    const racers = Array.from({ length: 6 }, () => {
      const pool = new pg.Pool({ connectionString: fresh.url, max: 1 });
      // The FORCE drop below may terminate a connection that is still closing.
      pool.on("error", () => undefined);
      return pool;
    });
    try {
      const ran = await Promise.all(racers.map((pool) => applyMigrations(pool)));
      expect(ran.reduce((a, b) => a + b, 0)).toBe(MIGRATIONS.length);
      expect(ran.filter((n) => n > 0)).toHaveLength(1);
    } finally {
      await Promise.all(racers.map((pool) => pool.end()));
      await fresh.drop();
    }
  });

  it("upgrading a database with events from before the event horizon hands all of them out", async () => {
    const pool = rawPool();
    expect(await applyMigrations(pool, MIGRATIONS.slice(0, 1))).toBe(1);
    await pool.query(
      `INSERT INTO calls (call_id, provider, phone_masked, play_times, client_reference, state,
         created_at_ms, updated_at_ms) VALUES ('call-1', 'sandbox', '+86138****0000', 1, 'ref-1', 2, 1, 1)`,
    );
    await pool.query(
      `INSERT INTO events (call_id, client_reference, state, failure_reason, provider,
         provider_call_id, provider_code, provider_text, recorded_at_ms)
       SELECT 'call-1', 'ref-1', s, 0, 'sandbox', 'pc-1', 'c', '', 1 FROM unnest(ARRAY[2, 3, 4]) s`,
    );
    const store = await openStore();
    expect((await store.listEvents({ clientReference: "ref-1" }, 0, 10)).map((e) => e.state)).toEqual([2, 3, 4]);
  });

  it("refuses a database from a newer schema version", async () => {
    await (await openStore()).close();
    await rawPool().query("INSERT INTO schema_migrations (version) VALUES ($1)", [MIGRATIONS.length + 1]);
    await expect(openStore()).rejects.toThrow(/newer than this build supports/);
  });

  it("rolls back a failed migration step entirely", async () => {
    const pool = rawPool();
    const broken = ["CREATE TABLE a (x INTEGER);", "CREATE TABLE b (x INTEGER); SELECT * FROM nope;"];
    await expect(applyMigrations(pool, broken)).rejects.toThrow(/nope/);
    const { rows } = await pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(rows).toEqual([]);
  });

  it("keeps calls, events and dedupe state across close and reopen; sequences continue", async () => {
    const first = await openStore();
    await seedAcceptedCall(first);
    await first.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 2);
    const call = await first.getCall("call-1");
    const events = await first.listEvents({ callId: "call-1" }, 0, 10);
    await first.close();

    const second = await openStore();
    expect(await second.getCall("call-1")).toEqual(call);
    expect(await second.listEvents({ callId: "call-1" }, 0, 10)).toEqual(events);
    expect((await second.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 3)).duplicates).toBe(1);
    const next = await second.ingest("sandbox", [push("r", CallState.RINGING)], NOW + 5);
    expect(next.appended[0]?.sequence).toBeGreaterThan(events.at(-1)?.sequence ?? Number.POSITIVE_INFINITY);
  });

  it("keeps nothing of a batch when a later push fails to store", async () => {
    const store = await openStore();
    await seedAcceptedCall(store);
    const admin = rawPool();
    await admin.query(`
      CREATE FUNCTION fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.provider_code = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_boom BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_boom();
    `);
    const batch = [
      push("d", CallState.DIALING),
      push("r", CallState.RINGING, "boom"),
      push("a", CallState.ANSWERED),
    ];
    await expect(store.ingest("sandbox", batch, NOW + 2)).rejects.toThrow(/injected failure/);
    expect(await store.getCall("call-1")).toMatchObject({ state: CallState.ACCEPTED, updatedAtMs: NOW + 1 });
    const { rows } = await admin.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM inbound");
    expect(rows[0]?.n).toBe(0);

    await admin.query("DROP TRIGGER fail_boom ON events");
    const retry = await store.ingest("sandbox", batch, NOW + 3);
    expect(retry.duplicates).toBe(0);
    expect(retry.appended.map((e) => e.state)).toEqual([
      CallState.DIALING,
      CallState.RINGING,
      CallState.ANSWERED,
    ]);
  });

  it("stores the same push delivered concurrently through several stores once", async () => {
    const replicas = await Promise.all([openStore(), openStore(), openStore()]);
    await seedAcceptedCall(replicas[0]!);
    const results = await Promise.all(
      replicas.flatMap((store) =>
        [0, 1].map(() => store.ingest("sandbox", [push("r", CallState.RINGING)], NOW + 2)),
      ),
    );
    expect(results.map((r) => r.appended.length).reduce((a, b) => a + b, 0)).toBe(1);
    expect(results.map((r) => r.duplicates).reduce((a, b) => a + b, 0)).toBe(5);
    const events = await replicas[1]!.listEvents({ callId: "call-1" }, 0, 10);
    expect(events.map((e) => e.state)).toEqual([CallState.ACCEPTED, CallState.RINGING]);
  });

  it("survives its connection being killed mid-transaction: the write fails, the process and pool do not", async () => {
    const holdAtCommit = { on: false, reached: deferred(), release: deferred() };
    const store = await openStore({
      applicationName: "victim",
      async beforeCommit({ method }) {
        if (method !== "ingest" || !holdAtCommit.on) return;
        holdAtCommit.reached.resolve();
        await holdAtCommit.release.promise;
      },
    });
    await seedAcceptedCall(store);

    const crashes = await crashesDuring(async () => {
      // Killed during a statement: waiting for the call's row, which another session holds.
      const holder = new pg.Client({ connectionString: db.url });
      holder.on("error", () => undefined);
      await holder.connect();
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT 1 FROM calls WHERE call_id = 'call-1' FOR UPDATE");
        const waiting = store.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 2);
        waiting.catch(() => undefined); // asserted below; it may reject before that
        await until(() => waitingOnLock("victim"));
        expect(await terminateBackends(db.name, "victim")).toBeGreaterThan(0);
        await expect(waiting).rejects.toThrow();
      } finally {
        await holder.end();
      }

      // Killed between statements: idle in its transaction, just before COMMIT.
      holdAtCommit.on = true;
      const idle = store.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 3);
      idle.catch(() => undefined);
      await holdAtCommit.reached.promise;
      expect(await terminateBackends(db.name, "victim")).toBeGreaterThan(0);
      await sleep(50); // let the client see the FATAL message and the closed socket
      holdAtCommit.on = false;
      holdAtCommit.release.resolve();
      await expect(idle).rejects.toThrow();
    });
    expect(crashes).toEqual([]);

    // Nothing of either attempt was kept, and the pool hands out working connections.
    expect(await store.getCall("call-1")).toMatchObject({ state: CallState.ACCEPTED });
    const retry = await store.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 4);
    expect(retry.appended.map((e) => e.state)).toEqual([CallState.DIALING]);
  });

  it("fails to open, without crashing, when its connection is killed while migrating", async () => {
    const crashes = await crashesDuring(async () => {
      const holder = new pg.Client({ connectionString: db.url });
      holder.on("error", () => undefined);
      await holder.connect();
      try {
        // As if another replica were migrating: the new one queues on the migration lock.
        await holder.query("SELECT pg_advisory_lock($1, $2)", [LOCK_NAMESPACE, MIGRATION_LOCK]);
        const opening = createPostgresStore({ connectionString: db.url, applicationName: "migrating", keyring: testKeyring() });
        opening.catch(() => undefined); // asserted below; it may reject before that
        await until(() => waitingOnAdvisoryLock("migrating"));
        expect(await terminateBackends(db.name, "migrating")).toBe(1);
        await expect(opening).rejects.toThrow();
      } finally {
        await holder.end();
      }
    });
    expect(crashes).toEqual([]);
    await openStore();
  });

  it("a writer stalled mid-transaction delays no other call's writes, and its own call's only until the server ends it", async () => {
    const stall = { reached: deferred(), release: deferred() };
    const stalled = await openStore({
      applicationName: "stalled",
      idleInTransactionTimeoutMs: 300,
      async beforeCommit({ method }) {
        if (method !== "ingest") return;
        // A frozen process or a dead network: the server hears nothing more from us.
        stall.reached.resolve();
        await stall.release.promise;
      },
    });
    const healthy = await openStore({ applicationName: "healthy" });
    await seedAcceptedCall(healthy);
    await healthy.createCall({
      callId: "call-2",
      provider: "sandbox",
      phoneMasked: "+86138****0000",
      playTimes: 1,
      clientReference: "ref-2",
      metadata: {},
      idempotencyKey: "",
      requestHash: "h",
      nowMs: NOW,
    });
    try {
      const stuck = stalled.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 2);
      stuck.catch(() => undefined); // asserted below; it rejects before that
      await stall.reached.promise;
      // Another call's Send result and callbacks go through while the stalled session
      // is still open: nothing fleet-wide is held. (No timing: the check after them
      // proves the stalled session was there throughout.)
      await healthy.recordSendResult(
        "call-2",
        { kind: "accepted", providerCallId: "pc-2", providerCode: "OK", providerText: "" },
        NOW + 3,
      );
      const other = await healthy.ingest("sandbox", [{ ...push("r2", CallState.RINGING), providerCallId: "pc-2" }], NOW + 4);
      expect(other.appended.map((e) => e.state)).toEqual([CallState.RINGING]);
      expect(await idleInTransaction("stalled")).toBe(true);

      // The stalled call's own next write waits on its row until the server ends the session.
      const next = await settlesWithin(5000, healthy.ingest("sandbox", [push("r", CallState.RINGING)], NOW + 5));
      expect(next).not.toBe("blocked");
      expect(await healthy.listEvents({ callId: "call-1" }, 0, 10)).toMatchObject([
        { state: CallState.ACCEPTED },
        { state: CallState.RINGING },
      ]);
      stall.release.resolve();
      await expect(stuck).rejects.toThrow();
    } finally {
      stall.release.resolve();
    }
  });

  it("applies concurrent changes to one call one after another, each on the state the other left", async () => {
    const hold = { reached: deferred(), release: deferred() };
    const first = await openStore({
      applicationName: "first-writer",
      async beforeCommit({ method }) {
        if (method !== "ingest") return;
        hold.reached.resolve();
        await hold.release.promise;
      },
    });
    const second = await openStore({ applicationName: "second-writer" });
    await seedAcceptedCall(second);
    const answered = first.ingest("sandbox", [push("a", CallState.ANSWERED)], NOW + 2);
    await hold.reached.promise;
    // RINGING is stale once ANSWERED commits; read before that commit, it would regress the call.
    let finished = false;
    const ringing = second.ingest("sandbox", [push("r", CallState.RINGING)], NOW + 3).finally(() => {
      finished = true;
    });
    await until(async () => finished || (await waitingOnLock("second-writer")));
    hold.release.resolve();
    expect((await answered).appended.map((e) => e.state)).toEqual([CallState.ANSWERED]);
    expect(await ringing).toMatchObject({ appended: [], stale: 1 });
    expect(await second.getCall("call-1")).toMatchObject({ state: CallState.ANSWERED });
  });

  it("runs a webhook batch again when the server aborts it to break a deadlock", async () => {
    const store = await openStore({ applicationName: "deadlocked" });
    await seedAcceptedCall(store);
    await store.createCall({
      callId: "call-2",
      provider: "sandbox",
      phoneMasked: "+86138****0000",
      playTimes: 1,
      clientReference: "ref-1",
      metadata: {},
      idempotencyKey: "",
      requestHash: "h",
      nowMs: NOW,
    });
    await store.recordSendResult("call-2", { kind: "accepted", providerCallId: "pc-2", providerCode: "OK", providerText: "" }, NOW + 1);
    // Pushes that name their calls by echo only: the batch locks call-1's row, then call-2's.
    const echo = (callId: string, key: string): InboundEvent => ({ ...push(key, CallState.DIALING), providerCallId: "", callId });
    const other = new pg.Client({ connectionString: db.url });
    other.on("error", () => undefined);
    await other.connect();
    try {
      // Another writer holds call-2 and, once the batch holds call-1, asks for call-1: a
      // deadlock. Only the batch's session checks for it in time, so the batch is the one aborted.
      await other.query("SET deadlock_timeout = '60s'");
      await other.query("BEGIN");
      await other.query("SELECT 1 FROM calls WHERE call_id = 'call-2' FOR UPDATE");
      const batch = store.ingest("sandbox", [echo("call-1", "e1"), echo("call-2", "e2")], NOW + 2);
      batch.catch(() => undefined); // asserted below
      await until(() => waitingOnLock("deadlocked"));
      await other.query("SELECT 1 FROM calls WHERE call_id = 'call-1' FOR UPDATE");
      await other.query("COMMIT");
      expect((await batch).appended.map((e) => [e.callId, e.state])).toEqual([
        ["call-1", CallState.DIALING],
        ["call-2", CallState.DIALING],
      ]);
    } finally {
      await other.end();
    }
  });

  it("never strands a push parked while a Send result claims its provider call id", async () => {
    const hold = { reached: deferred(), release: deferred() };
    const webhook = await openStore({
      applicationName: "parking",
      async beforeCommit({ method }) {
        if (method !== "ingest") return;
        hold.reached.resolve();
        await hold.release.promise;
      },
    });
    const send = await openStore({ applicationName: "claiming" });
    await send.createCall({
      callId: "call-1",
      provider: "sandbox",
      phoneMasked: "+86138****0000",
      playTimes: 1,
      clientReference: "ref-1",
      metadata: {},
      idempotencyKey: "",
      requestHash: "h",
      nowMs: NOW,
    });
    // The callback for pc-1 arrives before the Send answer naming pc-1 is recorded: parked.
    const parked = webhook.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 1);
    await hold.reached.promise;
    let finished = false;
    const accepted = send
      .recordSendResult("call-1", { kind: "accepted", providerCallId: "pc-1", providerCode: "OK", providerText: "" }, NOW + 2)
      .finally(() => {
        finished = true;
      });
    await until(async () => finished || (await waitingOnLock("claiming")));
    hold.release.resolve();
    expect(await parked).toMatchObject({ appended: [], parked: 1 });
    // The claim, queued behind the parking, adopts the parked push.
    expect((await accepted).events.map((e) => e.state)).toEqual([CallState.ACCEPTED, CallState.DIALING]);
    expect(await send.getCall("call-1")).toMatchObject({ state: CallState.DIALING, providerCallId: "pc-1" });
  });

  it("keeps its guarantees on a database whose default isolation is REPEATABLE READ", async () => {
    await adminQuery(`ALTER DATABASE ${db.name} SET default_transaction_isolation = 'repeatable read'`);
    // Replicas starting together: the ones that queued on the migration lock must see the
    // schema the first one committed, not try to create it again.
    await Promise.all(Array.from({ length: 4 }, () => openStore()));

    // A writer queued on the call's row must see what the holder committed.
    const holdAtCommit = { reached: deferred(), release: deferred() };
    const first = await openStore({
      applicationName: "first",
      async beforeCommit({ method }) {
        if (method !== "ingest") return;
        holdAtCommit.reached.resolve();
        await holdAtCommit.release.promise;
      },
    });
    const second = await openStore({ applicationName: "second" });
    await seedAcceptedCall(second);
    const ringing = first.ingest("sandbox", [push("r", CallState.RINGING)], NOW + 2);
    await holdAtCommit.reached.promise;
    const answered = second.ingest("sandbox", [push("a", CallState.ANSWERED)], NOW + 3);
    await until(() => waitingOnLock("second"));
    holdAtCommit.release.resolve();
    await ringing;
    expect((await answered).appended.map((e) => e.state)).toEqual([CallState.ANSWERED]);
    expect((await second.listEvents({ callId: "call-1" }, 0, 10)).map((e) => e.state)).toEqual([
      CallState.ACCEPTED,
      CallState.RINGING,
      CallState.ANSWERED,
    ]);
  });

  it("stores provider text containing U+0000 (which PostgreSQL text cannot hold) instead of failing it forever", async () => {
    const store = await openStore();
    await seedAcceptedCall(store);
    const withNul: InboundEvent = { ...push("d\u0000", CallState.DIALING, "c\u0000"), providerText: "a\u0000b" };
    const first = await store.ingest("sandbox", [withNul], NOW + 2);
    expect(first.appended).toMatchObject([
      { state: CallState.DIALING, providerCode: "c\uFFFD", providerText: "a\uFFFDb" },
    ]);
    // The provider's retry of the same push is still recognised.
    expect(await store.ingest("sandbox", [withNul], NOW + 3)).toMatchObject({ appended: [], duplicates: 1 });

    // A Send answer may carry it too.
    await store.createCall({
      callId: "call-2",
      provider: "sandbox",
      phoneMasked: "+86138****0000",
      playTimes: 1,
      clientReference: "ref-2",
      metadata: {},
      idempotencyKey: "",
      requestHash: "h",
      nowMs: NOW,
    });
    const rejected = await store.recordSendResult(
      "call-2",
      { kind: "rejected", reason: FailureReason.UNSPECIFIED, providerCode: "E\u0000", providerText: "x\u0000" },
      NOW + 1,
    );
    expect(rejected.events).toMatchObject([{ state: CallState.FAILED, providerCode: "E\uFFFD", providerText: "x\uFFFD" }]);
  });

  it("closes idempotently and fails calls made after close", async () => {
    const store = await openStore();
    await store.close();
    await store.close();
    await expect(store.getCall("call-1")).rejects.toThrow();
  });

  it("fails to open, without leaking a pool, when the server is unreachable", async () => {
    const url = new URL(db.url);
    url.port = "1";
    await expect(createPostgresStore({ connectionString: url.toString(), keyring: testKeyring() })).rejects.toThrow();
  });
});
