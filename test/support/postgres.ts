/**
 * PostgreSQL for tests. Each test file gets its own fresh database, created through the
 * admin URL (VOICECODE_TEST_DATABASE_URL, default the local trust-auth server) and
 * dropped afterwards. Without a reachable server the PostgreSQL suites are reported
 * skipped, by name; with VOICECODE_REQUIRE_POSTGRES=1 (CI) they fail instead.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";

export const ADMIN_URL =
  process.env.VOICECODE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REQUIRED = process.env.VOICECODE_REQUIRE_POSTGRES === "1";

async function reachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const problem = await reachable();
if (problem !== undefined && REQUIRED) {
  throw new Error(`VOICECODE_REQUIRE_POSTGRES=1 but PostgreSQL at ${ADMIN_URL} is unreachable: ${problem}`);
}

export const postgresAvailable = problem === undefined;

/** describe() when PostgreSQL is reachable, describe.skip() (reported by name) otherwise. */
export const describePostgres = describe.skipIf(!postgresAvailable);

/** Admin queries (CREATE/DROP DATABASE, pg_terminate_backend) on a short-lived connection. */
export async function adminQuery<R extends pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
  url = ADMIN_URL,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  // Only hex characters: safe to splice into the identifier.
  const name = `voicecode_t_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: databaseUrl(name),
    // FORCE: a test that failed midway may have left connections open.
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined),
  };
}

/** A fresh database for the calling describe block; read `.url` inside tests. */
export function useTestDatabase(): { url: string; name: string } {
  const fixture = { url: "", name: "" };
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    fixture.url = db.url;
    fixture.name = db.name;
  });
  afterAll(async () => {
    await db?.drop();
  });
  return fixture;
}

/** Connections of one database with this application_name (e.g. the bus listener). */
export async function backendPids(database: string, applicationName: string): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
    [database, applicationName],
  );
  return rows.map((r) => r.pid);
}

/** Kills those connections the way a failover or an admin would. Returns how many. */
export async function terminateBackends(database: string, applicationName: string): Promise<number> {
  const rows = await adminQuery<{ ok: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
     WHERE datname = $1 AND application_name = $2`,
    [database, applicationName],
  );
  return rows.filter((r) => r.ok).length;
}
