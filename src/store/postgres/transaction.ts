/**
 * One store method = one transaction. Transactions that may append events also take the
 * event-order lock and raise the NOTIFY that wakes every replica's watchers.
 *
 * Why the lock: an identity value is drawn at INSERT, not at COMMIT. Without it, writer
 * X draws 41, writer Y draws 42 and commits first; a watcher reads 42, resumes "after
 * 42" and never sees 41. Holding pg_advisory_xact_lock from the first statement of every
 * event-appending transaction until its commit serializes those transactions, so
 * sequences are drawn and become visible in one order: every event a reader can see has
 * all lower sequences visible too (PostgreSQL makes a commit visible before it releases
 * the transaction's locks).
 *
 * Trade-off: event-writing transactions (Send results, webhook batches) run one at a time
 * across all replicas, so their throughput is bounded by one transaction's latency
 * (roughly a thousand per second on a local disk). Voice calls are paid, rate-limited
 * and slow, far below that; reads, createCall and watchers never take the lock. Taking it
 * first, before any row lock, also rules out lock-order deadlocks between writers. The
 * alternative (hand out only events below the oldest in-flight transaction's horizon)
 * keeps writers parallel but makes every read reason about xids and snapshots.
 */
import type pg from "pg";
import type { EventRecord } from "../../core/model.js";
import { EVENTS_CHANNEL, EVENT_ORDER_LOCK, LOCK_NAMESPACE } from "./constants.js";
import { withClient } from "./pool.js";
import type { Db } from "./queries.js";

export interface TransactionHooks {
  /**
   * Test-only: runs with the transaction still open, after its work and NOTIFY, just
   * before COMMIT; lets a test hold a writer open to reproduce commit-order races.
   */
  readonly beforeCommit?: (tx: { method: string; events: readonly EventRecord[] }) => Promise<void>;
  /**
   * Test-only: false skips the event-order lock, to show the test that depends on it
   * fails without it. Never disable it in production: watchers would lose events.
   */
  readonly eventOrderLock?: boolean;
}

export interface TransactionOptions extends TransactionHooks {
  /**
   * How long the server lets one of our transactions wait on us between statements
   * before it ends the session. Default 30 000 ms. Event-writing transactions hold the
   * fleet-wide event-order lock and never wait on anything but the database, so a
   * transaction idle that long means this process stalled or its network dropped; the
   * server would otherwise keep the session, and the lock that blocks every replica's
   * webhooks and Send results, until TCP keepalive gives up (hours by default).
   */
  readonly idleInTransactionTimeoutMs?: number;
}

export interface TransactionSpec<T> {
  readonly method: string;
  /** Events this transaction appended (announced via NOTIFY); undefined: appends none. */
  readonly appended?: (result: T) => readonly EventRecord[];
}

export async function inTransaction<T>(
  pool: pg.Pool,
  hooks: TransactionOptions,
  spec: TransactionSpec<T>,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  const idleMs = Math.max(0, Math.floor(hooks.idleInTransactionTimeoutMs ?? 30_000));
  return withClient(pool, async (client, markBroken) => {
    // Isolation explicit: every re-read after taking the event-order lock must see the
    // commits of the writers that held it before. A database whose default is REPEATABLE
    // READ would freeze the snapshot before the lock wait, so a writer would read stale
    // calls and fail on rows changed meanwhile. The timeout is SET LOCAL, in the same
    // round trip, rather than a connection parameter, which PgBouncer would refuse.
    await client.query(
      `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL idle_in_transaction_session_timeout = ${idleMs}`,
    );
    try {
      if (spec.appended !== undefined && hooks.eventOrderLock !== false) {
        await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, EVENT_ORDER_LOCK]);
      }
      const result = await work(client);
      const events = spec.appended?.(result) ?? [];
      const last = events.at(-1);
      if (last !== undefined) {
        // Transactional: delivered to listeners only if and when this commits. The payload
        // is only a hint (the highest sequence); listeners read the events themselves.
        await client.query("SELECT pg_notify($1, $2)", [EVENTS_CHANNEL, String(last.sequence)]);
      }
      await hooks.beforeCommit?.({ method: spec.method, events });
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
        // The connection is unusable; the pool must not hand it out again.
        markBroken(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
      });
      throw err;
    }
  });
}
