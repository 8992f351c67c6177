/**
 * The PostgreSQL engine: the engine-neutral contract and property suites, plus what only
 * PostgreSQL has (migrations racing across replicas, a shared server, pools).
 */
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
import {
  createTestDatabase,
  describePostgres,
  type TestDatabase,
  useTestDatabase,
} from "../support/postgres.js";
import { describeStoreContract } from "./store-contract.js";
import { describeStoreProperties } from "./store-properties.js";

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
  const open = () => createPostgresStore({ connectionString: db.url, poolSize: 4 });
  describeStoreContract("postgres", open);
  describeStoreProperties("postgres", open);
});

describePostgres("PostgreSQL store (fresh database per test)", () => {
  let db: TestDatabase;
  const stores: PostgresStore[] = [];
  const pools: pg.Pool[] = [];
  const openStore = async (): Promise<PostgresStore> => {
    const store = await createPostgresStore({ connectionString: db.url, poolSize: 3 });
    stores.push(store);
    return store;
  };
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

  it("closes idempotently and fails calls made after close", async () => {
    const store = await openStore();
    await store.close();
    await store.close();
    await expect(store.getCall("call-1")).rejects.toThrow();
  });

  it("fails to open, without leaking a pool, when the server is unreachable", async () => {
    const url = new URL(db.url);
    url.port = "1";
    await expect(createPostgresStore({ connectionString: url.toString() })).rejects.toThrow();
  });
});
