/**
 * Retention: ended calls (with their events and pushes) and parked pushes for calls we
 * never knew are deleted once old, in small batches so no transaction holds locks for
 * long. A period of 0 keeps that kind of row forever.
 */
import type { Store } from "../store/store.js";

const DAY_MS = 86_400_000;

export interface RetentionSweeperOptions {
  readonly store: Pick<Store, "prune">;
  /** Terminal calls are kept this many days after their last change; 0: forever. */
  readonly callDays: number;
  /** Parked pushes are kept this many days after they arrived; 0: forever. */
  readonly parkedDays: number;
  readonly now: () => number;
  /** Calls (and parked pushes) per batch. */
  readonly batchSize: number;
  /** Upper bound of batches in one sweep, so one sweep cannot run for hours. Default 100. */
  readonly maxBatches?: number;
}

export interface RetentionTotals {
  readonly calls: number;
  readonly events: number;
  readonly pushes: number;
  readonly parked: number;
}

export interface RetentionSweeper {
  sweep(): Promise<RetentionTotals>;
}

export function createRetentionSweeper(options: RetentionSweeperOptions): RetentionSweeper {
  const maxBatches = options.maxBatches ?? 100;
  // Before the epoch: nothing is that old, so nothing of that kind is deleted.
  const cutoff = (nowMs: number, days: number): number => (days === 0 ? 0 : nowMs - days * DAY_MS);
  return {
    async sweep() {
      const totals = { calls: 0, events: 0, pushes: 0, parked: 0 };
      if (options.callDays === 0 && options.parkedDays === 0) return totals;
      for (let batch = 0; batch < maxBatches; batch++) {
        const nowMs = options.now();
        const r = await options.store.prune({
          callsBeforeMs: cutoff(nowMs, options.callDays),
          parkedBeforeMs: cutoff(nowMs, options.parkedDays),
          limit: options.batchSize,
        });
        totals.calls += r.calls;
        totals.events += r.events;
        totals.pushes += r.pushes;
        totals.parked += r.parked;
        // Another replica holds the round, or nothing old is left.
        if (r.busy || (r.calls < options.batchSize && r.parked < options.batchSize)) break;
      }
      return totals;
    },
  };
}
