/**
 * Target P's database: a fresh one per start of the target, created through the admin URL
 * (VOICECODE_BENCH_DATABASE_URL, default the local trust-auth server) and dropped after,
 * so every round starts from empty tables like D's new SQLite file.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import pg from "pg";
import { redactUrl } from "../src/storage.js";

export const ADMIN_URL = process.env.VOICECODE_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The admin URL for messages: the password masked. */
export const ADMIN_URL_SHOWN = redactUrl(ADMIN_URL);

/** One statement on a short-lived connection; the admin work is a handful per run. */
async function adminQuery(sql: string, connectionTimeoutMillis = 10_000): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis });
  // A connection failing after connect() would otherwise crash the process; the query rejects anyway.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why PostgreSQL can't be reached, or undefined when it can. */
export async function postgresProblem(): Promise<string | undefined> {
  try {
    await adminQuery("SELECT 1", 3000);
    return undefined;
  } catch (err) {
    // An AggregateError (refused on both ::1 and 127.0.0.1) has an empty message.
    if (err instanceof AggregateError) return err.errors.map(String).join("; ");
    return err instanceof Error ? err.message || err.name : String(err);
  }
}

/**
 * Runs `use` with a fresh database's URL and drops the database afterwards: on failure
 * too, and on SIGINT/SIGTERM (Ctrl-C), which would otherwise end this process before any
 * `finally` and leave the database behind. A second Ctrl-C exits at once.
 */
export async function withBenchDatabase<T>(use: (url: string) => Promise<T>): Promise<T> {
  // Only hex characters: safe to splice into the identifier.
  const name = `voicecode_bench_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  // FORCE: after a failure the killed server's connections may not have closed yet.
  const drop = () =>
    adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err: unknown) => {
      console.error(`could not drop database ${name} (${err instanceof Error ? err.message : String(err)}); drop it by hand`);
    });
  const onSignal = (signal: NodeJS.Signals) => {
    void drop().finally(() => process.exit(128 + constants.signals[signal]));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await drop();
  }
}
