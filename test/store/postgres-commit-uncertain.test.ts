/**
 * A connection that fails once COMMIT was sent must fail every item of the group without a
 * second run (group-commit.ts, "connection lost after COMMIT"). Found in review:
 * transaction.ts decided "answered, so rolled back" from any 5-character `code`. A proxy
 * (PgBouncer: "server conn crashed?", SQLSTATE 08P01) or a backend terminated at commit
 * (57P01 admin_shutdown, 57P02 crash_shutdown) answers with a SQLSTATE although the COMMIT
 * may have been applied. Here the COMMIT really commits and then fails with such a code.
 */
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createGroupWriter } from "../../src/store/postgres/group-commit.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../support/postgres.js";

describePostgres("postgres group commit: failure after COMMIT was sent", () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let failNextCommit = false;
  let code = "";
  beforeEach(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const [text] = args;
        if (!(failNextCommit && typeof text === "string" && text.endsWith("COMMIT"))) return query(...args);
        failNextCommit = false;
        return (query(...args) as Promise<unknown>).then(() => {
          throw Object.assign(new Error("server conn crashed?"), { code });
        });
      };
    });
    await pool.query("CREATE TABLE t (id int PRIMARY KEY)");
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  // ECONNRESET was handled before the fix; the others were run twice.
  for (const sqlState of ["ECONNRESET", "08P01", "57P01", "EPIPE"]) {
    it(`runs no item twice when COMMIT applies and then fails with code ${sqlState}`, async () => {
      code = sqlState;
      failNextCommit = true;
      const writer = createGroupWriter(pool, {}, { maxGroups: 1 });
      const runs = new Map<number, number>();
      const insert = (id: number) =>
        writer.submit({ method: "probe" }, async (c) => {
          runs.set(id, (runs.get(id) ?? 0) + 1);
          await c.query("INSERT INTO t VALUES ($1)", [id]);
          return id;
        });
      const settled = await Promise.allSettled([insert(1), insert(2)]);
      await writer.idle();
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM t");
      expect(rows[0]?.n).toBe(2); // the group's COMMIT did apply
      // The promise: no second, possibly double, run; every item gets the error.
      expect([...runs.values()]).toEqual([1, 1]);
      expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
    });
  }
});
