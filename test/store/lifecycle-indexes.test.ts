/**
 * The deletes and scans of deadline expiry and retention use indexes on both engines
 * (migration 3 on SQLite, 2 on PostgreSQL). Without them, deleting one event checks
 * `inbound.applied_sequence` and deleting one call checks `inbound.call_id` by reading
 * the whole inbound table.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallState } from "../../src/core/model.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { openDatabase } from "../../src/store/sqlite/index.js";
import { testKeyring } from "../support/keyring.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

/** Each query the lifecycle runs, with the index it must use. */
const QUERIES: readonly [string, string][] = [
  ["SELECT 1 FROM inbound WHERE call_id = 'x'", "inbound_call_id"],
  ["SELECT 1 FROM inbound WHERE applied_sequence = 1", "inbound_applied_sequence"],
  ["SELECT call_id FROM calls WHERE state NOT IN (6, 7) AND created_at_ms < 5 ORDER BY created_at_ms LIMIT 10", "calls_open_created"],
  ["SELECT call_id FROM calls WHERE state NOT IN (6, 7) AND provider = 'p' AND call_id > '' ORDER BY call_id LIMIT 10", "calls_open_provider"],
  ["SELECT call_id FROM calls WHERE state IN (6, 7) AND updated_at_ms < 5 ORDER BY updated_at_ms LIMIT 10", "calls_closed_updated"],
  ["SELECT received_seq FROM inbound WHERE disposition = 'parked' AND received_at_ms < 5 ORDER BY received_at_ms LIMIT 10", "inbound_parked_received"],
];

it("the queries repeat the terminal states the partial indexes name", () => {
  expect([CallState.COMPLETED, CallState.FAILED]).toEqual([6, 7]);
});

describe("SQLite query plans", () => {
  const db = openDatabase({ path: ":memory:" });
  afterAll(() => db.close());

  it.each(QUERIES)("%s uses %s", (sql, index) => {
    const plan = db.prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all();
    expect(plan.map((row) => row.detail).join("\n")).toContain(`INDEX ${index}`);
  });
});

describePostgres("PostgreSQL query plans", () => {
  const database = useTestDatabase();
  let store: PostgresStore;
  let client: pg.PoolClient;
  beforeAll(async () => {
    store = await createPostgresStore({ connectionString: database.url, poolSize: 2, keyring: testKeyring() });
    client = await store.pool.connect();
    // An empty table is cheapest to scan whatever the indexes; this asks whether an
    // index exists that can answer the query at all, which is what a large table needs.
    await client.query("SET enable_seqscan = off");
  });
  afterAll(async () => {
    client.release();
    await store.close();
  });

  it.each(QUERIES)("%s uses %s", async (sql, index) => {
    const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`);
    expect(rows.map((row) => row["QUERY PLAN"]).join("\n")).toContain(index);
  });
});
