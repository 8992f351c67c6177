/**
 * Group commit for PostgreSQL: the writer of the process. Each store write used to be a
 * transaction of its own: a BEGIN, a COMMIT and a WAL flush each, on its own pooled
 * connection. Instead, writes submitted while the event loop is busy queue up and run
 * together in one transaction once the loop has nothing else to do this turn
 * (setImmediate), or as soon as `maxItems` wait: one BEGIN, one NOTIFY, one COMMIT and
 * one flush for the group. Up to `maxGroups` groups run at once, each on its own
 * connection, so a group waiting on a row lock another replica holds does not stall
 * the process's other writes (and a test can hold one open while another commits).
 *
 * Items run one after another in group order (submission order, except that batched()
 * moves items of one kind together, which no caller can observe: they were all in flight
 * at once), so each sees the ones before it (limits count exactly; an idempotency key used
 * by an earlier item is a replay). Every
 * caller's promise settles after the COMMIT that holds its item: nothing is acknowledged
 * before it is durable, and a Send's PENDING row is durable before its provider is asked.
 *
 * Consecutive items of one kind (a Batch: plain new calls, Send answers) run as one
 * batch, in a few statements for all of them (send-batch.ts).
 *
 * No savepoint per item (two round trips each): when an item fails (it threw, a statement
 * of it failed, the server aborted it to break a deadlock), the group is rolled back
 * whole and run again in submission order: the items before it as a group, the item
 * (each item of its batch) alone in a transaction of its own (as before group commit, with its deadlock retries),
 * the items after it as a group. Only the item at fault fails, and each item still sees
 * exactly the ones submitted before it. A failure outside any item (BEGIN, COMMIT) reruns
 * every item alone, in order.
 * When the connection dies after COMMIT was sent, nobody knows whether the group
 * committed: every item gets the error rather than a second, possibly double, run.
 */
import pg from "pg";
import type { Db } from "./queries.js";
import {
  type Batch,
  CommitUncertain,
  ItemFailed,
  type TransactionOptions,
  type TransactionSpec,
  type TransactionWork,
  inTransaction,
  runTransaction,
} from "./transaction.js";

export interface GroupCommitOptions {
  /** Start a group at once when this many items wait. Default 64. */
  readonly maxItems?: number;
  /**
   * Groups running at once, each holding one pooled connection. Default 2: one commits
   * while the next gathers, and a group waiting on another replica's row lock leaves the
   * other free. More groups split the same load into smaller ones, each paying the same
   * round trips: with 4, callbacks across replicas cost PostgreSQL ~1.8 times the CPU
   * and Sends on PostgreSQL ran ~13 % slower (bench/README.md).
   */
  readonly maxGroups?: number;
  /** Test and diagnostics hook: after each group COMMIT, with the number of items it held. */
  readonly onCommit?: (items: number) => void;
}

interface Item extends TransactionWork<unknown> {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupWriter {
  /** Runs `work` in the next group; settles after the COMMIT that holds it. */
  submit<T>(spec: TransactionSpec<T>, work: (db: Db) => Promise<T>, batch?: Batch<T>): Promise<T>;
  /** Settles once nothing is queued or running (before the pool closes). */
  idle(): Promise<void>;
}

export function createGroupWriter(
  pool: pg.Pool,
  hooks: TransactionOptions,
  options: GroupCommitOptions = {},
): GroupWriter {
  const maxItems = Math.max(1, Math.floor(options.maxItems ?? 64));
  const maxGroups = Math.max(1, Math.floor(options.maxGroups ?? 2));
  const queue: Item[] = [];
  let running = 0;
  let scheduled = false;
  let idleWaiters: Array<() => void> = [];

  async function alone(item: Item): Promise<void> {
    let result: unknown;
    try {
      result = await inTransaction(pool, hooks, item.spec, item.work);
    } catch (err) {
      item.reject(err);
      return;
    }
    options.onCommit?.(1);
    item.resolve(result);
  }

  /**
   * Items of one batch kind moved next to the first of them, so they run as one batch;
   * every other item keeps its place, and each kind its items' order. Any order is
   * correct here: every item of a group was submitted before the group started and is
   * answered after its COMMIT, so they are concurrent and no caller can tell.
   */
  function batched(items: readonly Item[]): Item[] {
    const runs: Item[][] = [];
    const byKey = new Map<string, Item[]>();
    for (const item of items) {
      const key = item.batch?.key;
      const open = key === undefined ? undefined : byKey.get(key);
      if (open !== undefined) open.push(item);
      else {
        const run = [item];
        runs.push(run);
        if (key !== undefined) byKey.set(key, run);
      }
    }
    return runs.flat();
  }

  /** `again`: this group already failed once to reach the server (see below). */
  async function run(group: readonly Item[], again = false): Promise<void> {
    const [first] = group;
    if (group.length <= 1) {
      if (first !== undefined) await alone(first);
      return;
    }
    let results: unknown[];
    try {
      results = await runTransaction(pool, hooks, group);
    } catch (err) {
      if (err instanceof CommitUncertain) {
        for (const item of group) item.reject(err.cause);
        return;
      }
      if (err instanceof ItemFailed) {
        await run(group.slice(0, err.index));
        for (const failed of group.slice(err.index, err.index + err.count)) await alone(failed);
        await run(group.slice(err.index + err.count));
        return;
      }
      if (!(err instanceof pg.DatabaseError)) {
        // No connection, or it broke before COMMIT (CommitUncertain is above): nothing of
        // the group committed and no item is at fault. Once more as a group, then the error
        // for all: one by one, each item would wait out the pool's connect timeout again.
        if (!again) await run(group, true);
        else for (const item of group) item.reject(err);
        return;
      }
      // The server refused the group (BEGIN, or COMMIT rolled back): each item alone.
      for (const item of group) await alone(item);
      return;
    }
    options.onCommit?.(group.length);
    for (const [i, item] of group.entries()) item.resolve(results[i]);
  }

  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && running < maxGroups) {
      // Items that run one by one (no batch) are spread over the free connections: a
      // group runs them one round trip after another, so one group of 16 takes about
      // four times as long as four groups of 4 side by side, each still one commit.
      // When every waiting item batches, one group takes them all (up to maxItems): a
      // batch costs the same few round trips for 2 items or 64, so splitting it would
      // only multiply round trips (and their CPU, on both sides) per item.
      const free = maxGroups - running;
      const spread = queue.some((item) => item.batch === undefined);
      const size = Math.min(maxItems, spread ? Math.ceil(queue.length / free) : queue.length);
      running++;
      void run(batched(queue.splice(0, size))).finally(() => {
        running--;
        if (queue.length > 0) schedule();
        else if (running === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const wake of waiters) wake();
        }
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  }

  return {
    submit<T>(spec: TransactionSpec<T>, work: (db: Db) => Promise<T>, batch?: Batch<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({
          spec: spec as TransactionSpec<unknown>,
          work,
          batch: batch as Batch<unknown> | undefined,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        if (queue.length >= maxItems && running < maxGroups) pump();
        else schedule();
      });
    },
    idle() {
      if (queue.length === 0 && running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
