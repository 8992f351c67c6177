/**
 * A group that cannot get a connection (database down, pool exhausted) must not rerun its
 * items one by one: each would wait out the pool's connect timeout again, so the last of
 * 64 callers would wait 64 timeouts. Found in review of group-commit.ts. Needs no server:
 * the pool points at a port nobody listens on.
 */
import { createServer } from "node:net";
import pg from "pg";
import { expect, it } from "vitest";
import { createGroupWriter } from "../../src/store/postgres/group-commit.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

it("fails a group that gets no connection after one more try as a group, not item by item", async () => {
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/x`, max: 1 });
  pool.on("error", () => undefined);
  let attempts = 0;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = () => {
    attempts++;
    return connect();
  };
  const writer = createGroupWriter(pool, {}, { maxGroups: 1 });
  const items = Array.from({ length: 10 }, (_, i) => writer.submit({ method: "probe" }, async () => i));
  const settled = await Promise.allSettled(items);
  await writer.idle();
  await pool.end();
  expect(settled.every((s) => s.status === "rejected")).toBe(true);
  expect(attempts).toBe(2);
});
