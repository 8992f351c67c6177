/**
 * The stop switch for every open watch when the server drains. One Set entry per watch
 * (its wake-up function, which it has anyway), not an AbortController each: an
 * AbortSignal with one listener is ~0.9 KB of heap, which at 10 000 open streams is 9 MB
 * for a switch thrown once per process lifetime.
 */
export interface WatchDrain {
  /** Once true, watches end with UNAVAILABLE (clients resume elsewhere). */
  readonly draining: boolean;
  /** Wakes `wake` when draining starts (at once if it already has). */
  add(wake: () => void): void;
  delete(wake: () => void): void;
}

export interface WatchDrainSwitch extends WatchDrain {
  /** Starts draining and wakes every registered watch. */
  start(): void;
  /** Registered watches. */
  readonly size: number;
}

export function createWatchDrain(): WatchDrainSwitch {
  const wakes = new Set<() => void>();
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    add(wake) {
      wakes.add(wake);
      if (draining) wake();
    },
    delete(wake) {
      wakes.delete(wake);
    },
    start() {
      draining = true;
      for (const wake of [...wakes]) wake();
    },
    get size() {
      return wakes.size;
    },
  };
}
