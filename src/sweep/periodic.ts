/**
 * Runs one sweep every `intervalMs`, never two at once: the next is scheduled only once
 * the previous has finished, so a slow database stretches the period instead of piling
 * sweeps up. stop() cancels the next one and waits for one in flight, so the store it
 * uses can be closed right after.
 */
import type { SweepTimers } from "./timers.js";

export interface PeriodicOptions {
  readonly intervalMs: number;
  readonly timers: SweepTimers;
  readonly run: () => Promise<void>;
  /** A sweep threw; the next one still runs. */
  readonly onError: (err: unknown) => void;
}

export interface Periodic {
  stop(): Promise<void>;
}

export function startPeriodic(options: PeriodicOptions): Periodic {
  let stopped = false;
  let cancel: (() => void) | undefined;
  let running: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    cancel = undefined;
    if (stopped) return;
    running = options.run().catch(options.onError);
    await running;
    running = undefined;
    if (!stopped) cancel = options.timers.schedule(options.intervalMs, tick);
  };
  cancel = options.timers.schedule(options.intervalMs, tick);

  return {
    async stop() {
      stopped = true;
      cancel?.();
      cancel = undefined;
      await running;
    },
  };
}
