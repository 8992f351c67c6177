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

export interface TransactionSpec<T> {
  readonly method: string;
  /** Events this transaction appended (announced via NOTIFY); undefined: appends none. */
  readonly appended?: (result: T) => readonly EventRecord[];
}

export async function inTransaction<T>(
  pool: pg.Pool,
  hooks: TransactionHooks,
  spec: TransactionSpec<T>,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
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
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}
