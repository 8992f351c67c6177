/**
 * The two sweepers every process runs (server.ts starts them after listening and stops
 * them first): deadline expiry and retention. On PostgreSQL every replica runs both;
 * the store makes that safe (an expiry is claimed by one replica, a retention round
 * belongs to the replica holding its lock).
 */
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import type { Store } from "../store/store.js";
import { createDeadlineSweeper } from "./deadline-sweeper.js";
import { type Periodic, startPeriodic } from "./periodic.js";
import { createRetentionSweeper } from "./retention-sweeper.js";
import { type SweepTimers, createRealtimeTimers } from "./timers.js";

export interface SweepSettings {
  readonly callDeadlineMs: number;
  readonly deadlineSweepMs: number;
  readonly retention: {
    readonly callDays: number;
    readonly parkedDays: number;
    readonly sweepMs: number;
    readonly batchSize: number;
  };
}

export interface StartSweepersOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly settings: SweepSettings;
  readonly now?: () => number;
  readonly timers?: SweepTimers;
}

export interface Sweepers {
  stop(): Promise<void>;
}

export function startSweepers(options: StartSweepersOptions): Sweepers {
  const { store, bus, settings } = options;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? createRealtimeTimers();
  const log = options.logger.child({ component: "sweeper" });

  const deadline = createDeadlineSweeper({ store, bus, deadlineMs: settings.callDeadlineMs, now });
  const retention = createRetentionSweeper({
    store,
    callDays: settings.retention.callDays,
    parkedDays: settings.retention.parkedDays,
    batchSize: settings.retention.batchSize,
    now,
  });
  const running: Periodic[] = [
    startPeriodic({
      intervalMs: settings.deadlineSweepMs,
      timers,
      run: async () => {
        const expired = await deadline.sweep();
        if (expired > 0) log.warn({ expired, deadlineMs: settings.callDeadlineMs }, "calls expired without a final status");
      },
      onError: (err) => log.error({ err: String(err) }, "deadline sweep failed"),
    }),
    startPeriodic({
      intervalMs: settings.retention.sweepMs,
      timers,
      run: async () => {
        const deleted = await retention.sweep();
        if (deleted.calls > 0 || deleted.parked > 0) log.info(deleted, "retention: old rows deleted");
      },
      onError: (err) => log.error({ err: String(err) }, "retention sweep failed"),
    }),
  ];
  return {
    async stop() {
      await Promise.all(running.map((p) => p.stop()));
    },
  };
}
