/** The connection pool every store query runs on. */
import pg from "pg";

export interface PoolOptions {
  readonly connectionString: string;
  /** Connections per process. Default 10. */
  readonly poolSize?: number;
  /** Shown in pg_stat_activity. Default "voicecode". */
  readonly applicationName?: string;
  /** An idle connection failed (server restart, terminated backend); the pool replaces it. */
  readonly onError?: (err: Error) => void;
}

const INT8_OID = 20;

/**
 * BIGINT columns (sequences, millisecond timestamps) come back as numbers, not strings.
 * Per client, not pg.types.setTypeParser, so nothing else in the process is affected;
 * every value we store stays far below 2^53.
 */
export const numericInt8: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? "voicecode",
    types: numericInt8,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  // Without a listener, an idle client's error (e.g. pg_terminate_backend) would crash
  // the process; the pool drops that client and opens a new one on demand.
  pool.on("error", (err) => options.onError?.(err));
  return pool;
}

/**
 * Runs `work` on a checked-out client. The pool listens for errors only on idle clients:
 * a backend that dies while we hold its client (restart, failover, pg_terminate_backend)
 * makes the client emit 'error', even during a query, and unhandled that crashes the
 * process. Here the error is only noted: the statement in flight (or the next one) rejects
 * by itself, and the noted error makes release() discard the dead connection.
 */
export async function withClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, markBroken: (err: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (err: Error): void => {
    broken ??= err;
  };
  client.on("error", markBroken);
  try {
    return await work(client, markBroken);
  } finally {
    client.removeListener("error", markBroken);
    client.release(broken);
  }
}
