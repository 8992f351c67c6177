/**
 * Group commit: the one writer of the process. A commit with synchronous = FULL costs a
 * disk sync, and better-sqlite3 blocks the event loop for it, so one transaction per
 * write caps writes at the disk's sync rate. Instead, writes submitted while the event
 * loop is busy queue up, and run together in one IMMEDIATE transaction once the loop has
 * nothing else to do this turn (setImmediate), or as soon as `maxItems` are waiting: one
 * sync for the whole group.
 *
 * Items run in submission order, so each sees the items before it (limits count exactly,
 * an idempotency key used by an earlier item is a replay), and an item that throws rolls
 * back only its own writes. Every caller's promise settles after the COMMIT that holds its
 * item: nothing is acknowledged before it is durable.
 *
 * A group first runs without savepoints: under a savepoint SQLite copies every page an
 * item changes that an earlier item of the group already changed into the statement
 * journal, and a group of Sends changes the same few pages (the tables' and indexes' last
 * leaves) item after item. Items rarely throw; when one does, the group is rolled back
 * and run again with a SAVEPOINT per item. So an item's `work` may run twice: it must be
 * statements on this connection only, which the rollback undoes.
 */
import type Database from "better-sqlite3";

export interface GroupCommitOptions {
  /** Run the queue at once when this many items wait (default 256). */
  readonly maxItems?: number;
  /** Test and diagnostics hook: after each durable COMMIT, with the number of items it held. */
  readonly onCommit?: (items: number) => void;
  /** Test and diagnostics hook: a group rolled back because an item threw, run again item by item. */
  readonly onIsolate?: (items: number) => void;
}

interface Item {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface GroupWriter {
  /** Runs `work` (synchronous, statements only) in the next group; settles after its commit. */
  submit<T>(work: () => T): Promise<T>;
  /** Runs every queued item now (before close). */
  drain(): void;
}

export function createGroupWriter(db: Database.Database, options: GroupCommitOptions = {}): GroupWriter {
  const maxItems = Math.max(1, Math.floor(options.maxItems ?? 256));
  // An item's savepoint keeps the original of every page it changes that an earlier item
  // of the group had already changed (the statement journal), so ROLLBACK TO can undo it.
  // The journal grows through the group, and with temp_store at its default (a file) it
  // spills to a temporary file past 64 KiB: a Send then cost ~44 small pwrite calls on
  // the event loop (strace), about half of the store's CPU per Send. In memory it holds
  // at most one group's pages and is dropped at COMMIT. Durability is the WAL's, not this
  // journal's.
  db.pragma("temp_store = MEMORY");
  const queue: Item[] = [];
  let scheduled = false;
  // Prepared lazily: a store closed before its first write never needs them.
  let sql: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "undo", Database.Statement> | undefined;
  const statements = () => {
    sql ??= {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT group_item"),
      release: db.prepare("RELEASE group_item"),
      undo: db.prepare("ROLLBACK TO group_item"),
    };
    return sql;
  };

  /**
   * The group in one transaction without savepoints: every item's value, or the first
   * error an item threw (the transaction is then rolled back). Throws when BEGIN or
   * COMMIT fails.
   */
  function runTogether(group: readonly Item[]): unknown[] | { readonly error: unknown } {
    const s = statements();
    s.begin.run();
    const values: unknown[] = [];
    for (const item of group) {
      try {
        values.push(item.work());
      } catch (error) {
        // SQLite may have rolled back already (disk full, I/O error).
        if (db.inTransaction) s.rollback.run();
        return { error };
      }
    }
    s.commit.run();
    return values;
  }

  /** One transaction for `group`; returns the items to run in a new one (see below). */
  function run(group: readonly Item[]): Item[] {
    let together: unknown[] | { readonly error: unknown };
    try {
      together = runTogether(group);
    } catch (error) {
      // BEGIN or COMMIT failed (or the database is closed): nothing of the group is durable.
      if (db.open && db.inTransaction) statements().rollback.run();
      for (const item of group) item.reject(error);
      return [];
    }
    if (Array.isArray(together)) {
      options.onCommit?.(together.length);
      for (const [i, item] of group.entries()) item.resolve(together[i]);
      return [];
    }
    // Alone in its group, the item that threw has nothing to share a transaction with.
    if (group.length === 1) {
      group[0]?.reject(together.error);
      return [];
    }
    options.onIsolate?.(group.length);
    return runIsolated(group);
  }

  /** One transaction for `group`, an item per savepoint; returns the items to run in a new one. */
  function runIsolated(group: readonly Item[]): Item[] {
    const outcomes: Outcome[] = [];
    let rest: Item[] = [];
    let committed = false;
    try {
      const s = statements();
      s.begin.run();
      for (const [i, item] of group.entries()) {
        s.savepoint.run();
        try {
          outcomes.push({ ok: true, value: item.work() });
          s.release.run();
        } catch (error) {
          if (!db.inTransaction) {
            // SQLite rolled the whole transaction back (disk full, I/O error): the items
            // before this one are lost with it, the ones after it get a transaction of
            // their own.
            for (const [j, done] of outcomes.entries()) {
              if (done.ok) outcomes[j] = { ok: false, error };
            }
            outcomes.push({ ok: false, error });
            rest = group.slice(i + 1);
            break;
          }
          s.undo.run();
          s.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      if (db.inTransaction) {
        s.commit.run();
        committed = true;
      }
    } catch (error) {
      // BEGIN or COMMIT failed (or the database is closed): nothing of the group is durable.
      if (db.open && db.inTransaction) statements().rollback.run();
      for (const item of group) item.reject(error);
      return [];
    }
    if (committed) options.onCommit?.(outcomes.length);
    for (const [i, outcome] of outcomes.entries()) {
      const item = group[i];
      if (item === undefined) continue;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
    return rest;
  }

  function drain(): void {
    scheduled = false;
    while (queue.length > 0) {
      let group = queue.splice(0, maxItems);
      while (group.length > 0) group = run(group);
    }
  }

  return {
    submit<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        if (queue.length >= maxItems) drain();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
    },
    drain,
  };
}
