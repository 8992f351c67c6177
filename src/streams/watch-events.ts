/**
 * A watch (./watch.ts) as an async iterable, for consumers that pull: the Connect
 * transport and the core's `watchStatus`. The rules live in ./watch.ts; this only turns
 * its pushes into `next()` results, one event at a time (the watch holds further events
 * until this one is taken, as a generator would).
 */
import type { EventRecord } from "../core/model.js";
import type { WatchDrain } from "./drain.js";
import type { Deadlines } from "./deadlines.js";
import { type WatchContext, type WatchSink, type WatchTarget, openWatch } from "./watch.js";

export type { WatchTarget } from "./watch.js";

export interface WatchEventsOptions {
  readonly store: WatchContext["store"];
  readonly bus: WatchContext["bus"];
  readonly target: WatchTarget;
  readonly afterSequence: number;
  /** The client went away: stop quietly. */
  readonly signal: AbortSignal;
  /** When the server drains: stop with UNAVAILABLE so the client resumes elsewhere. */
  readonly drain: WatchDrain;
  /** Events read per store query. */
  readonly batchSize?: number;
  /** See WatchContext.refineGraceMs. Default 5 000. */
  readonly refineGraceMs?: number;
  readonly now?: () => number;
  /** The timer of the refine grace periods, shared by a server's watches (on `now`). Default: one of its own. */
  readonly deadlines?: Deadlines;
}

/**
 * Ends after a single call's terminal event (or its refine grace period); throws what
 * the watch fails with; returns quietly once `signal` aborts or the consumer stops.
 */
export async function* watchEvents(options: WatchEventsOptions): AsyncGenerator<EventRecord> {
  const { signal, target, afterSequence, ...context } = options;
  if (signal.aborted) return;
  const queue = new Queue();
  const control = openWatch(context, target, afterSequence, queue);
  const onAbort = () => {
    control.cancel();
    queue.wake();
  };
  signal.addEventListener("abort", onAbort);
  try {
    for (;;) {
      if (signal.aborted) return;
      const event = queue.items.shift();
      if (event !== undefined) {
        yield event;
        continue;
      }
      if (queue.failed) throw queue.error;
      if (queue.ended) return;
      await queue.next(control);
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    // Idempotent: a watch that ended on its own is already released.
    control.cancel();
  }
}

/** The watch's events waiting to be taken, and how it ended. */
class Queue implements WatchSink {
  readonly items: EventRecord[] = [];
  ended = false;
  failed = false;
  error: unknown = undefined;
  private waiting: (() => void) | undefined = undefined;

  event(event: EventRecord): boolean {
    this.items.push(event);
    this.wake();
    // Hold the rest until this one is taken.
    return false;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(err: unknown): void {
    this.failed = true;
    this.error = err;
    this.wake();
  }

  released(): void {}

  wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  /** Lets the watch go on and waits for its next push. */
  next(control: { resume(): void }): Promise<void> {
    const woken = new Promise<void>((resolve) => {
      this.waiting = resolve;
    });
    control.resume();
    return woken;
  }
}
