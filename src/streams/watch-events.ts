/**
 * One WatchStatus stream: replay from the store, then live, by sequence.
 *
 * The stream subscribes to the bus *before* its first read and always reads events
 * from the store by sequence, so there is no seam between replay and live: an event
 * committed after a read raises a notice that triggers the next read, and an event a
 * read already returned is never returned again (the cursor only moves forward).
 */
import type { Bus } from "../bus/bus.js";
import { VoiceCodeError, notFound } from "../core/errors.js";
import type { EventRecord } from "../core/model.js";
import { isTerminal, isVerificationEvent } from "../core/states.js";
import type { EventFilter, Store } from "../store/store.js";
import { type Deadlines, createDeadlines } from "./deadlines.js";
import type { WatchDrain } from "./drain.js";

/** Always within one tenant: a watch never sees another tenant's calls or events. */
export type WatchTarget =
  | { readonly callId: string; readonly tenant: string }
  | { readonly clientReference: string; readonly tenant: string };

export interface WatchEventsOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly target: WatchTarget;
  readonly afterSequence: number;
  /** The client went away: stop quietly. */
  readonly signal: AbortSignal;
  /** When the server drains: stop with UNAVAILABLE so the client resumes elsewhere. */
  readonly drain: WatchDrain;
  /** Events read per store query. */
  readonly batchSize?: number;
  /**
   * How long a single-call watch stays open after a provisional FAILED event for the
   * precise one (counted from when the provisional event was stored). Default 5 000.
   */
  readonly refineGraceMs?: number;
  readonly now?: () => number;
  /** The timer of the refine grace periods, shared by a server's watches (on `now`). Default: one of its own. */
  readonly deadlines?: Deadlines;
}

/**
 * Memory per open watch is kept small (10 000 idle streams are a normal load): one
 * wake-up closure serves the bus, the client's signal, the drain switch and the grace
 * deadline, and nothing is armed per watch while it waits except that.
 */
export async function* watchEvents(options: WatchEventsOptions): AsyncGenerator<EventRecord> {
  const { store, bus, target, signal, drain } = options;
  const batchSize = options.batchSize ?? 256;
  const refineGraceMs = options.refineGraceMs ?? 5_000;
  const now = options.now ?? Date.now;
  const single = "callId" in target;
  const filter: EventFilter =
    "callId" in target
      ? { callId: target.callId }
      : { clientReference: target.clientReference, tenant: target.tenant };

  let dirty = true;
  let wake: (() => void) | undefined;
  // Every wake-up marks the watch dirty: after an abort, a drain or the deadline the loop
  // looks at those first, and a spurious read costs one empty query.
  const poke = (): void => {
    dirty = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Keyed: the bus calls this watch for its own call's (or reference's) notices only.
  const unsubscribe =
    "callId" in target
      ? bus.subscribeCall(target.callId, poke)
      : bus.subscribeReference(target.tenant, target.clientReference, poke);
  signal.addEventListener("abort", poke);
  drain.add(poke);
  let deadlines = options.deadlines;
  let deadlineAt: number | undefined;
  let cancelDeadline: (() => void) | undefined;

  try {
    if (single) {
      const call = await store.getCall(target.callId);
      // Another tenant's call: the same answer as an unknown id.
      if (call === undefined || call.tenant !== target.tenant) throw notFound("call_id", "no such call");
    }
    let cursor = options.afterSequence;
    // Set once the call is FAILED with a provisional reason: the watch then ends at the
    // precise failure event or at this time, whichever comes first.
    let refineUntil: number | undefined;
    for (;;) {
      if (signal.aborted) return;
      if (drain.draining) {
        throw new VoiceCodeError(
          "UNAVAILABLE",
          `server is draining; resume with after_sequence=${cursor}`,
        );
      }
      if (!dirty) {
        if (refineUntil !== undefined) {
          if (now() >= refineUntil) return;
          if (deadlineAt !== refineUntil) {
            cancelDeadline?.();
            deadlines ??= createDeadlines(now);
            cancelDeadline = deadlines.at(refineUntil, poke);
            deadlineAt = refineUntil;
          }
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      dirty = false;
      // Read the call's state before its events: if it was terminal then, this read
      // returns everything up to the terminal event.
      const callBefore = single ? await store.getCall(target.callId) : undefined;
      const batch = await store.listEvents(filter, cursor, batchSize);
      for (const event of batch) {
        if (signal.aborted) return;
        yield event;
        cursor = event.sequence;
        // A verification event is not a lifecycle step: it neither ends the watch nor
        // starts a refine wait; the call-state check below still ends a resumed watch.
        if (single && isTerminal(event.state) && !event.continues && !isVerificationEvent(event)) {
          if (!event.provisional) return;
          refineUntil = event.recordedAtMs + refineGraceMs;
        } else if (single) {
          // Another attempt follows (or a later event superseded a provisional end): the
          // watch goes on until the call's own end.
          refineUntil = undefined;
        }
      }
      if (batch.length === batchSize) {
        dirty = true;
      } else if (callBefore !== undefined && isTerminal(callBefore.state) && !callBefore.continues) {
        // Resumed past the terminal event: nothing more will ever come, except the
        // precise reason for a provisional failure.
        if (!callBefore.reasonProvisional) return;
        refineUntil ??= callBefore.updatedAtMs + refineGraceMs;
      }
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", poke);
    drain.delete(poke);
    cancelDeadline?.();
  }
}
