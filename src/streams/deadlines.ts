/**
 * One timer for many deadlines: watches waiting out a refine grace period share it
 * instead of arming a Node timer each. The set is small (only watches of calls that just
 * failed provisionally), so finding the earliest is a scan.
 */
export interface Deadlines {
  /** Calls `fn` once `now() >= dueMs`; returns the cancel function. */
  at(dueMs: number, fn: () => void): () => void;
  /** Pending deadlines. */
  readonly size: number;
}

interface Pending {
  readonly dueMs: number;
  readonly fn: () => void;
}

export function createDeadlines(now: () => number = Date.now): Deadlines {
  const pending = new Set<Pending>();
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;

  function arm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const p of pending) earliest = Math.min(earliest, p.dueMs);
    if (earliest === armedFor) return;
    clearTimeout(timer);
    timer = undefined;
    armedFor = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    // At least 1 ms: a timer may fire a little before `now()` reaches the deadline.
    timer = setTimeout(fire, Math.max(1, earliest - now()));
    // A deadline never keeps the process alive: the streams waiting on it do, or nothing does.
    timer.unref();
  }

  function fire(): void {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const t = now();
    for (const p of [...pending]) {
      if (p.dueMs > t) continue;
      pending.delete(p);
      p.fn();
    }
    arm();
  }

  return {
    at(dueMs, fn) {
      const p: Pending = { dueMs, fn };
      pending.add(p);
      if (dueMs < armedFor) arm();
      return () => {
        if (pending.delete(p) && pending.size === 0) arm();
      };
    },
    get size() {
      return pending.size;
    },
  };
}
