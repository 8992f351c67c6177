/**
 * Store transactions. One transaction may hold the work of several store calls (the
 * group writer, group-commit.ts); transactions that append events raise the NOTIFY that
 * wakes every replica's watchers.
 *
 * Writers run in parallel: there is no fleet-wide lock. Two transactions wait for each
 * other only over what they share: one call's row, one provider call id (apply.ts,
 * queries.ts insertInboundBatch), one push's dedupe key. Readers still hand out
 * sequences in commit order: they stop at a snapshot horizon (visibility.ts) instead.
 * The price of that horizon is that any long-open write transaction holds every
 * replica's watchers back, so store transactions never wait on anything but the
 * database and the server ends one that goes idle (idleInTransactionTimeoutMs).
 */
import pg from "pg";
import type { EventRecord } from "../../core/model.js";
import { EVENTS_CHANNEL } from "./constants.js";
import { withClient } from "./pool.js";
import type { Db } from "./queries.js";

export interface TransactionHooks {
  /**
   * Test-only: runs with the transaction still open, after its work and NOTIFY, just
   * before COMMIT, once per store call the transaction holds; lets a test hold a writer
   * open to reproduce commit-order races.
   */
  readonly beforeCommit?: (tx: { method: string; events: readonly EventRecord[] }) => Promise<void>;
}

export interface TransactionOptions extends TransactionHooks {
  /**
   * How long the server lets one of our transactions wait on us between statements
   * before it ends the session. Default 5 000 ms. Store transactions never wait on
   * anything but the database, so a transaction idle that long means this process
   * stalled (SIGSTOP, a swap storm) or its network dropped. Until the server ends it,
   * it holds back the event horizon of every replica's watchers (visibility.ts) and the
   * rows it locked; without the timeout that lasts until TCP keepalive gives up (hours).
   */
  readonly idleInTransactionTimeoutMs?: number;
  /** Attempts of a transaction the server aborted to break a deadlock. Default 3. */
  readonly deadlockAttempts?: number;
}

export interface TransactionSpec<T> {
  readonly method: string;
  /** Events this transaction appended (announced via NOTIFY); undefined: appends none. */
  readonly appended?: (result: T) => readonly EventRecord[];
}

/**
 * Items of one kind that can run together: consecutive items of a transaction with the
 * same key run as one call of `run` (fewer round trips), with their inputs in order.
 */
export interface Batch<T> {
  readonly key: string;
  readonly input: unknown;
  /** Returns one result per input, in order; a throw fails all of them. */
  readonly run: (db: Db, inputs: readonly unknown[]) => Promise<readonly T[]>;
}

/** A Batch whose inputs are typed; the one place its inputs are cast back. */
export function batchOf<I, T>(key: string, input: I, run: (db: Db, inputs: readonly I[]) => Promise<readonly T[]>): Batch<T> {
  return { key, input, run: (db, inputs) => run(db, inputs as readonly I[]) };
}

/** One store call's share of a transaction: what it does and what it appends. */
export interface TransactionWork<T> {
  readonly spec: TransactionSpec<T>;
  /** Runs this item alone. */
  readonly work: (db: Db) => Promise<T>;
  readonly batch?: Batch<T> | undefined;
}

/**
 * Thrown when the connection failed once COMMIT was sent: the server may have committed.
 * (Only an error the server answered about the transaction itself means it rolled back:
 * see rolledBack.)
 */
export class CommitUncertain extends Error {
  override readonly name = "CommitUncertain";
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/**
 * An item's work failed (it threw, or a statement of it did): the `count` items from
 * `index` on, which ran as one batch (1 when it ran alone).
 */
export class ItemFailed extends Error {
  override readonly name = "ItemFailed";
  constructor(
    readonly index: number,
    override readonly cause: unknown,
    readonly count = 1,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** SQLSTATE deadlock_detected: the server rolled this transaction back to free another. */
const DEADLOCK_DETECTED = "40P01";

function sqlState(err: unknown): unknown {
  return typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
}

/**
 * Whether a failed COMMIT certainly did not apply: the server itself answered with an
 * error (a serialization failure, a deferred constraint). Not a socket error, and not the
 * SQLSTATEs a server or a pooler sends about a connection that is going away (class 08:
 * PgBouncer's "server conn crashed?" is 08P01; class 57: a backend terminated around the
 * commit, 57P01/57P02): those may come after the commit record is on disk.
 */
function rolledBack(err: unknown): boolean {
  if (!(err instanceof pg.DatabaseError) || typeof err.code !== "string") return false;
  return !err.code.startsWith("08") && !err.code.startsWith("57");
}

function isDeadlock(err: unknown): boolean {
  return sqlState(err) === DEADLOCK_DETECTED;
}

/** The items from `index` that run together: consecutive ones of the same batch key. */
function batchAt(items: ReadonlyArray<TransactionWork<unknown>>, index: number): ReadonlyArray<TransactionWork<unknown>> {
  const key = items[index]?.batch?.key;
  let end = index + 1;
  while (key !== undefined && end < items.length && items[end]?.batch?.key === key) end++;
  return items.slice(index, end);
}

/**
 * How a write transaction's statements are planned. The hot ones are named (parsed once
 * per connection); planning them again on every run was a third of PostgreSQL's time on
 * a callback (the nine-CTE write statement alone ~0.5 ms). So each is planned once, for
 * any parameters: a generic plan. A generic plan is kept until the tables' statistics
 * change, and one made by cost on a new database's near-empty tables would hash-join
 * against whole-table scans from then on (with autovacuum off, forever). With sequential
 * scans and hash and merge joins priced out, the only plans left are index probes in
 * nested loops, which is what every write here needs whatever the table sizes;
 * test/store/postgres-plans.test.ts checks each named statement's generic plan on empty
 * tables. The settings hold for every statement of the transaction, the unnamed ones
 * and the triggers' too, all of which probe indexes. A plan priced out this way costs
 * 1e10, which would also switch JIT compilation on for it: off. SET LOCAL: the reads
 * outside write transactions keep the server's defaults.
 */
export const PLAN_SETTINGS =
  "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off; " +
  "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off";

/**
 * Runs every item's work, in order, in one transaction on one connection, and commits
 * once; returns their results in order. Any failure rolls back all of them. An item's
 * failure comes wrapped in ItemFailed; a lost connection once COMMIT was sent, in
 * CommitUncertain.
 */
export function runTransaction(
  pool: pg.Pool,
  hooks: TransactionOptions,
  items: ReadonlyArray<TransactionWork<unknown>>,
): Promise<unknown[]> {
  const idleMs = Math.max(0, Math.floor(hooks.idleInTransactionTimeoutMs ?? 5_000));
  return withClient(pool, async (client, markBroken) => {
    // Isolation explicit: every re-read after a row lock must see what the writer that
    // held it committed. A database whose default is REPEATABLE READ would freeze the
    // snapshot at the first statement, and a writer would fail on rows changed meanwhile.
    // The timeout is SET LOCAL, in the same round trip, rather than a connection
    // parameter, which PgBouncer would refuse.
    await client.query(
      `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL idle_in_transaction_session_timeout = ${idleMs}; ${PLAN_SETTINGS}`,
    );
    let committing = false;
    try {
      const results: unknown[] = [];
      const appended: Array<{ method: string; events: readonly EventRecord[] }> = [];
      let last: number | undefined;
      for (let index = 0; index < items.length; ) {
        const run = batchAt(items, index);
        const [first] = run;
        const batch = first?.batch;
        let out: readonly unknown[];
        try {
          out =
            run.length > 1 && batch !== undefined
              ? await batch.run(client, run.map((r) => r.batch?.input))
              : [await (first as TransactionWork<unknown>).work(client)];
        } catch (err) {
          throw new ItemFailed(index, err, run.length);
        }
        for (const [j, item] of run.entries()) {
          const result = out[j];
          results.push(result);
          const events = item.spec.appended?.(result) ?? [];
          appended.push({ method: item.spec.method, events });
          for (const e of events) last = Math.max(last ?? e.sequence, e.sequence);
        }
        index += run.length;
      }
      // Transactional: delivered to listeners only if and when this commits. The payload
      // is only a hint (the highest sequence); listeners read the events themselves.
      // Without the test hook it rides in COMMIT's round trip (a whole number, no quoting).
      const notify =
        last === undefined ? "" : `SELECT pg_notify(${client.escapeLiteral(EVENTS_CHANNEL)}, '${String(last)}'); `;
      if (hooks.beforeCommit !== undefined) {
        if (notify !== "") await client.query(notify);
        for (const a of appended) await hooks.beforeCommit(a);
        committing = true;
        await client.query("COMMIT");
      } else {
        committing = true;
        await client.query(`${notify}COMMIT`);
      }
      return results;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
        // The connection is unusable; the pool must not hand it out again.
        markBroken(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
      });
      throw committing && !rolledBack(err) ? new CommitUncertain(err) : err;
    }
  });
}

/**
 * Runs `work` in a transaction of its own. A deadlock is retried: without a global lock,
 * two webhook batches naming the same calls in opposite orders can lock each other's
 * rows, and the server then aborts one of them whole; run again, it finds the other's
 * changes.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  hooks: TransactionOptions,
  spec: TransactionSpec<T>,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  const attempts = Math.max(1, Math.floor(hooks.deadlockAttempts ?? 3));
  const item = { spec, work } as TransactionWork<unknown>;
  for (let i = 1; ; i++) {
    try {
      const [result] = await runTransaction(pool, hooks, [item]);
      return result as T;
    } catch (err) {
      const cause = err instanceof CommitUncertain || err instanceof ItemFailed ? err.cause : err;
      if (i >= attempts || !isDeadlock(cause)) throw cause;
    }
  }
}
