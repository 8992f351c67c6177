/**
 * Time for the simulated carrier. The sandbox never reads the clock or calls setTimeout
 * directly, so tests (including whole-server tests) swap in the manual scheduler and
 * walk a call's lifecycle step by step without sleeping.
 */

/** A task may be async: the manual scheduler waits for it before running the next one. */
export type ScheduledTask = () => void | Promise<void>;

export interface Scheduler {
  /** Runs `fn` once after `delayMs`; the returned function cancels it (no-op once run). */
  schedule(delayMs: number, fn: ScheduledTask): () => void;
}

/** setTimeout-backed; timers are unref'd so pending callbacks never hold the process open. */
export function createRealtimeScheduler(): Scheduler {
  return {
    schedule(delayMs, fn) {
      const timer = setTimeout(() => {
        void fn();
      }, Math.max(0, delayMs));
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}

export interface ManualScheduler extends Scheduler {
  /** Virtual milliseconds elapsed since creation. */
  readonly now: number;
  /** Tasks scheduled and not yet run or cancelled. */
  readonly pendingCount: number;
  /** Jumps to the earliest task, runs it and waits for it; false when nothing is pending. */
  runNext(): Promise<boolean>;
  /** Runs, in due order, every task due within `ms` (including ones they schedule). */
  advance(ms: number): Promise<void>;
  /** Runs tasks until none is left; throws after `maxTasks` to catch runaway loops. */
  runAll(maxTasks?: number): Promise<void>;
}

interface Entry {
  readonly dueMs: number;
  /** Tie-break so tasks due at the same moment run in scheduling order. */
  readonly order: number;
  readonly fn: ScheduledTask;
}

export function createManualScheduler(): ManualScheduler {
  const entries = new Set<Entry>();
  let now = 0;
  let nextOrder = 0;

  const earliest = (): Entry | undefined => {
    let best: Entry | undefined;
    for (const entry of entries) {
      if (best === undefined || entry.dueMs < best.dueMs || (entry.dueMs === best.dueMs && entry.order < best.order)) {
        best = entry;
      }
    }
    return best;
  };

  const run = async (entry: Entry): Promise<void> => {
    entries.delete(entry);
    now = Math.max(now, entry.dueMs);
    await entry.fn();
  };

  return {
    get now() {
      return now;
    },
    get pendingCount() {
      return entries.size;
    },
    schedule(delayMs, fn) {
      const entry: Entry = { dueMs: now + Math.max(0, delayMs), order: nextOrder++, fn };
      entries.add(entry);
      return () => {
        entries.delete(entry);
      };
    },
    async runNext() {
      const entry = earliest();
      if (entry === undefined) return false;
      await run(entry);
      return true;
    },
    async advance(ms) {
      const target = now + ms;
      for (let entry = earliest(); entry !== undefined && entry.dueMs <= target; entry = earliest()) {
        await run(entry);
      }
      now = target;
    },
    async runAll(maxTasks = 10_000) {
      for (let ran = 0; ; ran++) {
        if (ran >= maxTasks) throw new Error(`manual scheduler: still busy after ${maxTasks} tasks`);
        const entry = earliest();
        if (entry === undefined) return;
        await run(entry);
      }
    },
  };
}
