/**
 * Every call ends. A call whose provider never sends a final status (a callback lost
 * for good, a push format we cannot read, a sandbox call in flight at a crash) would
 * otherwise stay open forever, and so would its watchers. Past its deadline it is
 * recorded FAILED UNKNOWN, provisional, so a report that still arrives replaces it.
 */
import type { Bus } from "../bus/bus.js";
import type { Store } from "../store/store.js";

export interface DeadlineSweeperOptions {
  readonly store: Pick<Store, "expireCalls">;
  readonly bus: Bus;
  /** A call not terminal this long after it was created expires. */
  readonly deadlineMs: number;
  readonly now: () => number;
  /** Calls per store transaction. Default 200. */
  readonly batchSize?: number;
}

export interface DeadlineSweeper {
  /** Expires every call past its deadline; returns how many. */
  sweep(): Promise<number>;
}

export function deadlineText(deadlineMs: number): string {
  return `voicecode: no final status arrived from the provider within the call deadline (${deadlineMs} ms)`;
}

export function createDeadlineSweeper(options: DeadlineSweeperOptions): DeadlineSweeper {
  const limit = options.batchSize ?? 200;
  const providerText = deadlineText(options.deadlineMs);
  return {
    async sweep() {
      let total = 0;
      for (;;) {
        const nowMs = options.now();
        const events = await options.store.expireCalls({
          createdBeforeMs: nowMs - options.deadlineMs,
          nowMs,
          providerText,
          limit,
        });
        // Through the bus like any other event: watchers of these calls end.
        options.bus.publish(events);
        total += events.length;
        if (events.length < limit) return total;
      }
    },
  };
}
