/**
 * One watch (a WatchStatus stream's rules): replay from the store, then live, by sequence.
 *
 * The watch subscribes to the bus *before* its first read and always reads events from
 * the store by sequence, so there is no seam between replay and live: an event committed
 * after a read raises a notice that triggers the next read, and an event a read already
 * returned is never returned again (the cursor only moves forward).
 *
 * Push-based: the watch hands events to a sink and, while idle, is only an entry in the
 * bus, the drain registry and (in a refine grace period) the shared deadlines, with no
 * pending promise or generator. 10 000 idle streams are a normal load, and each suspended
 * await chain (generator, promise reactions, closures) or per-call AbortSignal cost
 * about a kilobyte per stream (bench/README.md, "Watch memory"). Both transports feed
 * from this one implementation: grpc-js pushes to the call (src/api/grpc/implement.ts),
 * Connect iterates (./watch-events.ts).
 */
import type { Bus, CarriedEvent, EventNotice } from "../bus/bus.js";
import { VoiceCodeError, notFound } from "../core/errors.js";
import type { CallRecord, EventRecord } from "../core/model.js";
import { isTerminal, isVerificationEvent } from "../core/states.js";
import type { EventFilter, Store } from "../store/store.js";
import { type Deadlines, createDeadlines } from "./deadlines.js";
import type { WatchDrain } from "./drain.js";

/** Always within one tenant: a watch never sees another tenant's calls or events. */
export type WatchTarget =
  | { readonly callId: string; readonly tenant: string }
  | { readonly clientReference: string; readonly tenant: string };

/** What every watch of a server shares (one object, not copied into each watch). */
export interface WatchContext {
  readonly store: Store;
  readonly bus: Bus;
  /** When the server drains: watches end with UNAVAILABLE so clients resume elsewhere. */
  readonly drain: WatchDrain;
  /** Events read per store query. Default 256. */
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

/** Where a watch's events go. Exactly one of end/fail is called, unless the watch is cancelled first. */
export interface WatchSink {
  /** One event, in sequence order. false: hold further events until `resume()`. */
  event(event: EventRecord): boolean;
  /** The watch is over (a single call's end): close normally. */
  end(): void;
  /** The watch failed (NOT_FOUND, UNAVAILABLE on drain, a store error). */
  fail(err: unknown): void;
  /** Called once however the watch stops (end, fail or cancel), after its subscriptions are released. */
  released(): void;
  /**
   * Runs a wake-up's read in the consumer's context (its request span, so the store's spans
   * are its children), not in whoever woke the watch (a webhook's). Default: as called.
   */
  within?<T>(fn: () => T): T;
}

/** What the consumer side calls on a watch. */
export interface WatchControl {
  /** The consumer is gone: release everything now and call nothing on the sink but released(). */
  cancel(): void;
  /** The sink can take events again after event() returned false. */
  resume(): void;
}

/** Starts a watch; its first read runs at once (asynchronously). */
export function openWatch(context: WatchContext, target: WatchTarget, afterSequence: number, sink: WatchSink): WatchControl {
  const watch = new Watch(context, target, afterSequence, sink);
  watch.start();
  return watch;
}

class Watch implements WatchControl {
  private cursor: number;
  /** A notice (or the drain, the deadline, the start) came since the last read. */
  private dirty = true;
  /** A read loop is running; a poke meanwhile only marks the watch dirty. */
  private running = false;
  private closed = false;
  /** The single call was found (checked on the first read only). */
  private checked = false;
  /** A read returned everything after the cursor while the call was not over (see below). */
  private caughtUp = false;
  /**
   * Set once the call is FAILED with a provisional reason: the watch then ends at the
   * precise failure event or at this time, whichever comes first.
   */
  private refineUntil: number | undefined = undefined;
  private deadlineAt: number | undefined = undefined;
  private cancelDeadline: (() => void) | undefined = undefined;
  /** The sink said it is full and has not called resume() since. */
  private held = false;
  /** Resolves the read loop's wait for `resume()` (set only while the sink is full). */
  private resumed: (() => void) | undefined = undefined;
  private unsubscribe: (() => void) | undefined = undefined;
  /**
   * What the bus had announced when the last complete read started: the watch then had
   * every one of its events up to it (Bus.announcedThrough). Undefined on a bus whose
   * notices carry nothing, and until the first read.
   */
  private syncedAt: number | undefined = undefined;
  /**
   * The one closure per watch: the bus, the drain switch and the deadline all call it.
   * Every wake-up marks the watch dirty; a spurious read costs one empty query. A notice
   * that carries its event and continues what the watch has seen is taken as it is.
   */
  private readonly poke = (notice?: EventNotice): void => {
    if (notice?.carried !== undefined && this.take(notice.carried)) return;
    this.dirty = true;
    if (this.running || this.closed) return;
    if (this.sink.within === undefined) void this.run();
    else this.sink.within(() => void this.run());
  };

  constructor(
    private readonly context: WatchContext,
    private readonly target: WatchTarget,
    afterSequence: number,
    private readonly sink: WatchSink,
  ) {
    this.cursor = afterSequence;
  }

  start(): void {
    const { bus, drain } = this.context;
    const target = this.target;
    // Keyed: the bus calls this watch for its own call's (or reference's) notices only.
    this.unsubscribe =
      "callId" in target
        ? bus.subscribeCall(target.callId, this.poke)
        : bus.subscribeReference(target.tenant, target.clientReference, this.poke);
    drain.add(this.poke);
    this.poke();
  }

  cancel(): void {
    if (this.release()) this.sink.released();
  }

  resume(): void {
    this.held = false;
    const resumed = this.resumed;
    this.resumed = undefined;
    resumed?.();
  }

  /** False if already released. */
  private release(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.unsubscribe?.();
    this.context.drain.delete(this.poke);
    this.cancelDeadline?.();
    this.cancelDeadline = undefined;
    // A read loop waiting for room wakes, sees `closed` and stops.
    this.resume();
    return true;
  }

  private finish(err?: unknown): void {
    if (!this.release()) return;
    if (err === undefined) this.sink.end();
    else this.sink.fail(err);
    this.sink.released();
  }

  /** Reads until there is nothing new, then returns: an idle watch keeps no promise. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      if (await this.readUntilIdle()) this.finish();
    } catch (err) {
      // After a cancel nobody is left to tell (and nothing to log: the caller went away).
      this.finish(err);
    } finally {
      this.running = false;
    }
    // A notice that came after the last read looked (it found the watch still running,
    // so it only marked it dirty) would otherwise wait for the next notice, maybe forever.
    if (this.dirty && !this.closed) this.poke();
  }

  /**
   * An event a notice carries, delivered without a store read when that read could not
   * return anything else. The bus's carried notices come in log order and, from the
   * position a read started at, leave no event out; the watch is keyed, so it is offered
   * every one of its own. Idle and clean (not dirty, not held), it has taken every such
   * notice since its last complete read, so it has all of its events before this one.
   * Any notice it does not take marks it dirty, and the read that follows starts over
   * from a new position. False: read instead.
   */
  private take(carried: CarriedEvent): boolean {
    if (this.running || this.dirty || this.held || this.closed || this.context.drain.draining) return false;
    if (this.syncedAt === undefined || carried.since < this.syncedAt) return false;
    const target = this.target;
    const { event } = carried;
    if ("callId" in target) {
      if (!this.caughtUp || event.callId !== target.callId) return false;
    } else if (event.clientReference !== target.clientReference || event.tenant !== target.tenant) {
      return false;
    }
    try {
      if (event.sequence > this.cursor) {
        this.held = !this.sink.event(event);
        this.cursor = event.sequence;
        if (this.follow(event)) {
          this.finish();
          return true;
        }
      }
      if (this.idle()) this.finish();
    } catch (err) {
      // As run() does: the watch fails, and the bus goes on with the other watches.
      this.finish(err);
    }
    return true;
  }

  /**
   * A delivered event's effect on a single-call watch: true when it ends the watch, else
   * whether a refine grace period starts (a provisional end) or stops (a later event).
   */
  private follow(event: EventRecord): boolean {
    // A verification event is not a lifecycle step: it neither ends the watch nor starts
    // or stops a refine wait (it repeats the call's state, so on a provisionally FAILED
    // call it looks like a later event); the call-state check in the read loop still
    // ends a resumed watch.
    if (!("callId" in this.target) || isVerificationEvent(event)) return false;
    if (isTerminal(event.state) && !event.continues) {
      if (!event.provisional) return true;
      this.refineUntil = event.recordedAtMs + this.refineGraceMs;
    } else {
      // Another attempt follows (or a later event superseded a provisional end): the
      // watch goes on until the call's own end.
      this.refineUntil = undefined;
    }
    return false;
  }

  /** True when the watch is over (the single call ended); false when idle or closed. */
  private async readUntilIdle(): Promise<boolean> {
    const { store, drain } = this.context;
    const target = this.target;
    const single = "callId" in target;
    // The first read's call, read before its events: it serves as that read's `callBefore` too
    // (one query less per opened stream).
    let first: CallRecord | undefined;
    if (single && !this.checked) {
      first = await store.getCall(target.callId);
      if (this.closed) return false;
      // Another tenant's call: the same answer as an unknown id.
      if (first === undefined || first.tenant !== target.tenant) throw notFound("call_id", "no such call");
      this.checked = true;
    }
    const batchSize = this.context.batchSize ?? 256;
    for (;;) {
      if (this.closed) return false;
      if (drain.draining) {
        throw new VoiceCodeError("UNAVAILABLE", `server is draining; resume with after_sequence=${this.cursor}`);
      }
      if (!this.dirty) return this.idle();
      if (this.held) {
        // Full since a carried event (taken outside this loop): nothing more until resume().
        await this.untilResumed();
        continue;
      }
      this.dirty = false;
      // Read the call's state before its events: if it was terminal then, this read
      // returns everything up to the terminal event.
      // Once a read has caught up with the call while it was still going, its end can only
      // come as an event after the cursor (sequence order is commit order to a reader), so
      // later reads skip the call: one store query per event instead of two.
      const callBefore = first ?? (single && !this.caughtUp ? await store.getCall(target.callId) : undefined);
      first = undefined;
      if (this.closed) return false;
      const filter: EventFilter = single
        ? { callId: target.callId }
        : { clientReference: target.clientReference, tenant: target.tenant };
      // Announced before the read starts, so the read sees all of them (Bus.announcedThrough).
      const announced = this.context.bus.announcedThrough;
      const batch = await store.listEvents(filter, this.cursor, batchSize);
      for (const event of batch) {
        if (this.closed) return false;
        this.held = !this.sink.event(event);
        this.cursor = event.sequence;
        if (this.follow(event)) return true;
        if (this.held) await this.untilResumed();
      }
      if (batch.length === batchSize) {
        this.dirty = true;
        continue;
      }
      this.syncedAt = announced;
      if (callBefore !== undefined && isTerminal(callBefore.state) && !callBefore.continues) {
        // Resumed past the terminal event: nothing more will ever come, except the
        // precise reason for a provisional failure.
        if (!callBefore.reasonProvisional) return true;
        this.refineUntil ??= callBefore.updatedAtMs + this.refineGraceMs;
      } else if (callBefore !== undefined) {
        this.caughtUp = true;
      }
    }
  }

  private get refineGraceMs(): number {
    return this.context.refineGraceMs ?? 5_000;
  }

  /** Nothing to read: true if a refine grace period has run out, else arms its deadline. */
  private idle(): boolean {
    const refineUntil = this.refineUntil;
    if (refineUntil === undefined) return false;
    const now = this.context.now ?? Date.now;
    if (now() >= refineUntil) return true;
    if (this.deadlineAt !== refineUntil) {
      this.cancelDeadline?.();
      const deadlines = this.context.deadlines ?? ownDeadlines(this.context);
      this.cancelDeadline = deadlines.at(refineUntil, this.poke);
      this.deadlineAt = refineUntil;
    }
    return false;
  }

  private untilResumed(): Promise<void> {
    // resume() may already have come (a sink that frees room synchronously).
    if (this.closed || !this.held) return Promise.resolve();
    return new Promise((resolve) => {
      this.resumed = resolve;
    });
  }
}

/** For a context without shared deadlines (tests): one timer per context, made when first needed. */
const fallbackDeadlines = new WeakMap<WatchContext, Deadlines>();
function ownDeadlines(context: WatchContext): Deadlines {
  let deadlines = fallbackDeadlines.get(context);
  if (deadlines === undefined) {
    deadlines = createDeadlines(context.now ?? Date.now);
    fallbackDeadlines.set(context, deadlines);
  }
  return deadlines;
}
