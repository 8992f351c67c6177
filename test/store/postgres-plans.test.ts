/**
 * The named statements of the write transactions run on generic plans (PLAN_SETTINGS in
 * src/store/postgres/transaction.ts): each is planned once per connection and the plan
 * kept, whatever the tables grow to. This makes every one of those plans on an empty
 * database, as a new deployment's first transactions would, and checks that it only
 * probes indexes: a plan that scans a table, or hash- or merge-joins one, would be fine
 * on these tables and frozen for good once they hold millions of rows.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { ATTEMPTS_OF, CALLS_FOR_PUSHES, INSERT_INBOUND } from "../../src/store/postgres/queries.js";
import { ANSWER_CONTEXT, ANSWER_LOCKS, ANSWER_ROWS, INSERT_PLAIN_CALLS } from "../../src/store/postgres/send-batch.js";
import { PLAN_SETTINGS } from "../../src/store/postgres/transaction.js";
import { WRITE_PLAN } from "../../src/store/postgres/write-plan.js";
import { testKeyring } from "../support/keyring.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

const STATEMENTS = [
  INSERT_INBOUND,
  CALLS_FOR_PUSHES,
  ATTEMPTS_OF,
  INSERT_PLAIN_CALLS,
  ANSWER_LOCKS,
  ANSWER_ROWS,
  ANSWER_CONTEXT,
  WRITE_PLAN,
] as const;

const TABLES = ["calls", "events", "attempts", "inbound", "fallbacks", "verifications", "send_log"];

/** The plan nodes that read a whole table or join by building a table-sized structure. */
function wholeTableReads(plan: string): string[] {
  return plan.split("\n").flatMap((line) => {
    const scan = /Seq Scan on (\w+)/.exec(line);
    if (scan?.[1] !== undefined && TABLES.includes(scan[1])) return [line.trim()];
    return /Hash Join|Merge Join|Hash Semi Join|Hash Anti Join/.test(line) ? [line.trim()] : [];
  });
}

describePostgres("generic plans of the write transactions' named statements", () => {
  const database = useTestDatabase();
  let client: pg.Client;
  beforeAll(async () => {
    // Migrated, nothing written: every table empty.
    const store = await createPostgresStore({ connectionString: database.url, poolSize: 1, keyring: testKeyring() });
    await store.close();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it("names each statement once", () => {
    expect(new Set(STATEMENTS.map((s) => s.name)).size).toBe(STATEMENTS.length);
  });

  it.each(STATEMENTS.map((s) => [s.name, s] as const))("%s probes indexes only", async (_name, statement) => {
    await client.query(`PREPARE ${statement.name} AS ${statement.text}`);
    try {
      const { rows } = await client.query<{ parameter_types: string }>(
        "SELECT array_length(parameter_types, 1) AS parameter_types FROM pg_prepared_statements WHERE name = $1",
        [statement.name],
      );
      const params = Number(rows[0]?.parameter_types ?? 0);
      await client.query(`BEGIN; ${PLAN_SETTINGS}`);
      try {
        const args = Array.from({ length: params }, () => "NULL").join(", ");
        const explained = await client.query<{ "QUERY PLAN": string }>(
          `EXPLAIN EXECUTE ${statement.name}${params > 0 ? `(${args})` : ""}`,
        );
        const plan = explained.rows.map((r) => r["QUERY PLAN"]).join("\n");
        expect(wholeTableReads(plan), plan).toEqual([]);
        const counts = await client.query<{ generic_plans: number; custom_plans: number }>(
          "SELECT generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name = $1",
          [statement.name],
        );
        // The plan looked at is the one the transactions keep, not one made for these NULLs.
        expect(counts.rows[0]).toEqual({ generic_plans: 1, custom_plans: 0 });
      } finally {
        await client.query("ROLLBACK");
      }
    } finally {
      await client.query(`DEALLOCATE ${statement.name}`);
    }
  });
});

describe("the generic-plan check itself", () => {
  it("finds a table scan and a hash join", () => {
    const plan = "Hash Join  (cost=1.1..2.2)\n  ->  Seq Scan on calls c\n  ->  Function Scan on unnest u";
    expect(wholeTableReads(plan)).toEqual(["Hash Join  (cost=1.1..2.2)", "->  Seq Scan on calls c"]);
  });
});
