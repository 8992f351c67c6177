/**
 * Time for the sweepers. They never call setTimeout themselves, so a test passes a
 * manual scheduler (the sandbox's fits this shape) and drives sweeps without sleeping.
 */

export interface SweepTimers {
  /** Runs `fn` once after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, fn: () => void | Promise<void>): () => void;
}

/** setTimeout-backed and unref'd: a pending sweep never holds the process open. */
export function createRealtimeTimers(): SweepTimers {
  return {
    schedule(delayMs, fn) {
      const timer = setTimeout(() => void fn(), Math.max(0, delayMs));
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}
