/**
 * The rules of recording provider reports, written once for both engines: which call
 * and attempt a push belongs to (echo, provider id, earlier attempts), the forward-only
 * rule with provisional refinement, claiming a provider call id, adopting parked
 * pushes, the outcome-fallback decision, and the Send answer. Pure: the engine loads the
 * calls and parked pushes a change may touch, the planner returns the writes
 * (writes.ts), the engine executes them in one transaction. No I/O, no clock: `nowMs`
 * comes in.
 */
import { echoFor, fallbackDue, parseEcho, pushBelongsToCurrent } from "../../core/attempts.js";
import { CallState, FailureReason, type CallDetails, type CallRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import { advances, changesCall, stateRank } from "../../core/states.js";
import type { SendResult, SendResultOptions } from "../store.js";
import type {
  AttemptAnswerWrite,
  AttemptRef,
  Disposition,
  EventWrite,
  InboundWrite,
  LoadedCall,
  ParkedPush,
  Writes,
} from "./writes.js";

export interface EventFields {
  readonly state: CallState;
  readonly failureReason: FailureReason;
  readonly providerCallId: string;
  readonly providerCode: string;
  readonly providerText: string;
  readonly occurredAtMs: number | undefined;
  /** Only meaningful on FAILED: a later precise failure may replace this reason. */
  readonly provisional?: boolean | undefined;
  /** Key press, duration, answer and end times, when the provider reported them. */
  readonly details?: CallDetails | undefined;
}

interface Working {
  call: CallRecord;
  readonly loaded: LoadedCall;
  attempts: AttemptRef[];
}

const key = (provider: string, id: string): string => `${provider}\u001f${id}`;

/**
 * The working set of one change: the loaded calls as they stand after each decision
 * (one batch may move a call several times), and the writes accumulated so far.
 */
export class Planner {
  private readonly calls = new Map<string, Working>();
  /** (provider, provider call id) of each call's current attempt -> call id. */
  private readonly holders = new Map<string, string>();
  private readonly events: EventWrite[] = [];
  private readonly touched = new Set<string>();
  private readonly newAttempts: Array<{ callId: string; attempt: number; provider: string }> = [];
  private readonly attemptAnswers: AttemptAnswerWrite[] = [];
  private readonly attemptProviderCallIds: Array<{ callId: string; attempt: number; providerCallId: string }> = [];
  private readonly fallbacks: Array<{ callId: string; attempt: number }> = [];
  private readonly inbound = new Map<string, InboundWrite>();
  /** Parked pushes not adopted yet (the store's, then this change's), in arrival order. */
  private parked: ParkedPush[];

  constructor(
    calls: readonly LoadedCall[],
    parked: readonly ParkedPush[],
    private readonly nowMs: number,
  ) {
    for (const loaded of calls) {
      if (this.calls.has(loaded.call.callId)) continue;
      this.calls.set(loaded.call.callId, { call: loaded.call, loaded, attempts: [...loaded.attempts] });
      if (loaded.call.providerCallId !== "") {
        this.holders.set(key(loaded.call.provider, loaded.call.providerCallId), loaded.call.callId);
      }
    }
    this.parked = [...parked];
  }

  call(callId: string): CallRecord | undefined {
    return this.calls.get(callId)?.call;
  }

  private must(callId: string): Working {
    const w = this.calls.get(callId);
    if (w === undefined) throw new Error(`store: unknown call ${callId}`);
    return w;
  }

  /**
   * The call and attempt a push belongs to. The echo wins when it names an attempt this
   * provider carried; the provider id otherwise (the call's current attempt, or an
   * earlier one, whose pushes are then stale).
   */
  findCall(provider: string, push: InboundEvent): { readonly callId: string; readonly attempt: number } | undefined {
    if (push.callId !== undefined && push.callId !== "") {
      const echo = parseEcho(push.callId);
      const echoed = this.calls.get(echo.callId);
      if (echoed?.attempts.find((a) => a.attempt === echo.attempt)?.provider === provider) {
        return { callId: echo.callId, attempt: echo.attempt };
      }
    }
    if (push.providerCallId === "") return undefined;
    const holder = this.holders.get(key(provider, push.providerCallId));
    if (holder !== undefined) return { callId: holder, attempt: this.must(holder).call.attempt };
    let found: { callId: string; attempt: number } | undefined;
    for (const w of this.calls.values()) {
      for (const a of w.attempts) {
        if (a.provider !== provider || a.providerCallId !== push.providerCallId) continue;
        if (found === undefined || a.attempt > found.attempt) found = { callId: w.call.callId, attempt: a.attempt };
      }
    }
    return found;
  }

  /**
   * Appends an event to the call's current attempt and moves the call; the caller has
   * checked `changesCall`. `continues`: a FAILED after which another attempt follows.
   * Returns the event's index in the writes.
   */
  append(callId: string, fields: EventFields, continues = false): number {
    const w = this.must(callId);
    const failed = fields.state === CallState.FAILED;
    // A reason only means something on FAILED; providers attach codes to other states too.
    const failureReason = failed ? fields.failureReason : FailureReason.UNSPECIFIED;
    const provisional = failed && fields.provisional === true;
    this.events.push({
      callId,
      tenant: w.call.tenant,
      clientReference: w.call.clientReference,
      state: fields.state,
      failureReason,
      provider: w.call.provider,
      // An echo-only push carries no provider id; the call's is the better answer.
      providerCallId: fields.providerCallId || w.call.providerCallId,
      providerCode: fields.providerCode,
      providerText: fields.providerText,
      occurredAtMs: fields.occurredAtMs,
      recordedAtMs: this.nowMs,
      provisional,
      attempt: w.call.attempt,
      continues,
      ...(fields.details === undefined ? {} : { details: fields.details }),
    });
    this.update(w, { state: fields.state, failureReason, reasonProvisional: provisional, continues });
    return this.events.length - 1;
  }

  private update(w: Working, change: Partial<CallRecord>): void {
    w.call = { ...w.call, ...change, updatedAtMs: this.nowMs };
    this.touched.add(w.call.callId);
  }

  /** Moves the call to its next attempt, on `provider`, PENDING. */
  startNextAttempt(callId: string, provider: string): void {
    const w = this.must(callId);
    const attempt = w.call.attempt + 1;
    this.holders.delete(key(w.call.provider, w.call.providerCallId));
    this.update(w, {
      attempt,
      provider,
      providerCallId: "",
      state: CallState.PENDING,
      failureReason: FailureReason.UNSPECIFIED,
      reasonProvisional: false,
      continues: false,
    });
    w.attempts.push({ attempt, provider, providerCallId: "" });
    this.newAttempts.push({ callId, attempt, provider });
  }

  private setProviderCallId(w: Working, providerCallId: string): void {
    this.holders.delete(key(w.call.provider, w.call.providerCallId));
    this.holders.set(key(w.call.provider, providerCallId), w.call.callId);
    this.update(w, { providerCallId });
    w.attempts = w.attempts.map((a) =>
      a.attempt === w.call.attempt && a.providerCallId === "" ? { ...a, providerCallId } : a,
    );
  }

  /**
   * Gives the call its provider id if it has none and no other call holds it. A clash
   * means the provider reused an id or echoed a wrong call id; failing the batch would
   * make the provider retry it forever, so it is skipped.
   */
  claim(callId: string, providerCallId: string): boolean {
    const w = this.must(callId);
    if (w.call.providerCallId !== "" || providerCallId === "") return false;
    if (this.holders.has(key(w.call.provider, providerCallId))) return false;
    this.setProviderCallId(w, providerCallId);
    this.attemptProviderCallIds.push({ callId, attempt: w.call.attempt, providerCallId });
    return true;
  }

  private settle(provider: string, push: InboundEvent, settled: Omit<InboundWrite, "provider" | "push" | "received">): void {
    const k = key(provider, push.dedupeKey);
    const before = this.inbound.get(k);
    this.inbound.set(k, { provider, push, received: before?.received ?? false, ...settled });
  }

  /**
   * Applies one push of attempt `attempt` (default: the call's current one) to its call
   * and settles the push. The first FAILED of an attempt may decide the next one
   * (outcome fallback), in this same change.
   */
  applyPush(
    callId: string,
    push: InboundEvent,
    from?: { readonly attempt: number; readonly provider: string },
  ): Disposition {
    const w = this.must(callId);
    const call = w.call;
    let eventIndex: number | undefined;
    if (pushBelongsToCurrent(call, from?.attempt ?? call.attempt) && changesCall(call, push)) {
      const continues =
        push.state === CallState.FAILED &&
        call.state !== CallState.FAILED &&
        fallbackDue(
          w.loaded.route,
          call.attempt,
          push.failureReason,
          w.attempts.map((a) => a.provider),
          this.nowMs,
        );
      eventIndex = this.append(callId, push, continues);
      if (continues) this.fallbacks.push({ callId, attempt: call.attempt + 1 });
    }
    const disposition: Disposition = eventIndex === undefined ? "stale" : "applied";
    this.settle(from?.provider ?? call.provider, push, { disposition, callId, eventIndex });
    return disposition;
  }

  /**
   * Applies the parked pushes that now match the call (by its provider id or by an echo
   * of its call id). They arrived before we could match them, possibly out of order, so
   * they go in lifecycle order; arrival order breaks ties, so the first terminal wins
   * (and a precise failure after a provisional one still refines it).
   */
  adopt(callId: string): void {
    const call = this.must(callId).call;
    const echo = echoFor(call.callId, call.attempt);
    const matches = (p: ParkedPush): boolean =>
      p.provider === call.provider &&
      ((call.providerCallId !== "" && p.push.providerCallId === call.providerCallId) || p.push.callId === echo);
    const adopted = this.parked.filter(matches);
    if (adopted.length === 0) return;
    this.parked = this.parked.filter((p) => !matches(p));
    // Array.prototype.sort is stable, and the pool is in arrival order.
    adopted.sort((a, b) => stateRank(a.push.state) - stateRank(b.push.state));
    for (const p of adopted) this.applyPush(callId, p.push);
  }

  /**
   * One provider report, new (the caller has deduped it against the store and this
   * change): parked until its call is known, applied or stale once it is.
   */
  receive(provider: string, push: InboundEvent): void {
    this.inbound.set(key(provider, push.dedupeKey), {
      provider,
      push,
      disposition: "parked",
      callId: null,
      eventIndex: undefined,
      received: true,
    });
    const found = this.findCall(provider, push);
    if (found === undefined) {
      this.parked.push({ provider, push });
      return;
    }
    const call = this.must(found.callId).call;
    if (found.attempt === call.attempt && this.claim(call.callId, push.providerCallId)) {
      // The push and any parked before it under this provider id now match.
      this.parked.push({ provider, push });
      this.adopt(call.callId);
    } else {
      this.applyPush(call.callId, push, { attempt: found.attempt, provider });
    }
  }

  /**
   * The provider's definite answer to Send for the call's current attempt. `holder`:
   * the call that already holds the answer's provider call id, if any.
   */
  sendResult(callId: string, result: SendResult, options: SendResultOptions, holder: string | undefined): void {
    const w = this.must(callId);
    if (options.attempt !== undefined && options.attempt !== w.call.attempt) {
      throw new Error(`store: answer for attempt ${options.attempt} of ${callId}, which is on ${w.call.attempt}`);
    }
    this.attemptAnswers.push({
      callId,
      attempt: w.call.attempt,
      outcome: result.kind,
      providerCallId: result.kind === "accepted" ? result.providerCallId : "",
      failureReason: result.kind === "rejected" ? result.reason : FailureReason.UNSPECIFIED,
      providerCode: result.providerCode,
      providerText: result.providerText,
      endedAtMs: this.nowMs,
    });
    if (result.kind === "rejected") {
      if (!advances(w.call.state, CallState.FAILED)) return;
      const fields = {
        state: CallState.FAILED,
        failureReason: result.reason,
        providerCallId: "",
        providerCode: result.providerCode,
        providerText: result.providerText,
        occurredAtMs: undefined,
      };
      this.append(callId, fields, options.next !== undefined);
      if (options.next !== undefined) this.startNextAttempt(callId, options.next);
      return;
    }
    if (result.providerCallId !== "" && result.providerCallId !== w.call.providerCallId) {
      if (holder !== undefined && holder !== callId) {
        throw new Error(
          `store: provider ${w.call.provider} returned call id ${result.providerCallId} ` +
            `for ${callId}, but it already belongs to ${holder}`,
        );
      }
      // The Send answer is authoritative over an id a push may have claimed first.
      this.setProviderCallId(w, result.providerCallId);
    }
    if (advances(w.call.state, CallState.ACCEPTED)) {
      this.append(callId, {
        state: CallState.ACCEPTED,
        failureReason: FailureReason.UNSPECIFIED,
        providerCallId: result.providerCallId,
        providerCode: result.providerCode,
        providerText: result.providerText,
        occurredAtMs: undefined,
      });
    }
    this.adopt(callId);
  }

  writes(): Writes {
    return {
      events: this.events,
      calls: [...this.touched].map((id) => this.must(id).call),
      newAttempts: this.newAttempts,
      attemptAnswers: this.attemptAnswers,
      attemptProviderCallIds: this.attemptProviderCallIds,
      fallbacks: this.fallbacks,
      inbound: [...this.inbound.values()],
    };
  }
}

/** What a batch of pushes needs loaded: every id the pushes name. */
export interface IngestKeys {
  /** Call ids the pushes echo (attempt suffix removed). */
  readonly callIds: readonly string[];
  /** Provider call ids the pushes carry. */
  readonly providerCallIds: readonly string[];
}

export function ingestKeys(pushes: readonly InboundEvent[]): IngestKeys {
  const callIds = new Set<string>();
  const providerCallIds = new Set<string>();
  for (const push of pushes) {
    if (push.callId !== undefined && push.callId !== "") callIds.add(parseEcho(push.callId).callId);
    if (push.providerCallId !== "") providerCallIds.add(push.providerCallId);
  }
  return { callIds: [...callIds], providerCallIds: [...providerCallIds] };
}

/**
 * Calls of the batch that may claim a provider id from a push (they have none yet, and
 * some push carries one), and so may adopt parked pushes: the engine loads the parked
 * pushes for these echoes and the batch's provider call ids, and for nothing else.
 */
export function mayAdopt(calls: readonly LoadedCall[], keys: IngestKeys): string[] {
  if (keys.providerCallIds.length === 0) return [];
  return calls.filter((c) => c.call.providerCallId === "").map((c) => echoFor(c.call.callId, c.call.attempt));
}

export interface IngestPlan {
  readonly writes: Writes;
  readonly duplicates: number;
  readonly stale: number;
  readonly parked: number;
}

/**
 * A batch of pushes of one provider. `seen`: dedupe keys the store already holds for
 * this provider. `calls`: every call the batch's echoes and provider ids name (current
 * or earlier attempt), and the holders of those provider ids. `parked`: the store's
 * parked pushes under the batch's provider ids or the echoes of `mayAdopt`.
 */
export function planIngest(input: {
  readonly provider: string;
  readonly pushes: readonly InboundEvent[];
  readonly seen: ReadonlySet<string>;
  readonly calls: readonly LoadedCall[];
  readonly parked: readonly ParkedPush[];
  readonly nowMs: number;
}): IngestPlan {
  const planner = new Planner(input.calls, input.parked, input.nowMs);
  const received = new Set<string>();
  let duplicates = 0;
  for (const push of input.pushes) {
    if (input.seen.has(push.dedupeKey) || received.has(push.dedupeKey)) {
      duplicates++;
      continue;
    }
    received.add(push.dedupeKey);
    planner.receive(input.provider, push);
  }
  const writes = planner.writes();
  let stale = 0;
  let parked = 0;
  for (const w of writes.inbound) {
    if (!w.received) continue;
    if (w.disposition === "stale") stale++;
    if (w.disposition === "parked") parked++;
  }
  return { writes, duplicates, stale, parked };
}

/** The Send answer for a loaded call; `parked`: the store's parked pushes for its new ids. */
export function planSendResult(input: {
  readonly call: LoadedCall;
  readonly result: SendResult;
  readonly options: SendResultOptions;
  readonly holder: string | undefined;
  readonly parked: readonly ParkedPush[];
  readonly nowMs: number;
}): Writes {
  const planner = new Planner([input.call], input.parked, input.nowMs);
  planner.sendResult(input.call.call.callId, input.result, input.options, input.holder);
  return planner.writes();
}

/**
 * A claimed outcome fallback: with a provider, the next attempt starts on it (PENDING);
 * with none, the failure that asked for another attempt is final after all.
 */
export function planFallbackStart(
  loaded: LoadedCall,
  attempt: number,
  provider: string | undefined,
  nowMs: number,
  endText = "no provider left on the route for another attempt",
): Writes {
  const { call } = loaded;
  if (call.attempt !== attempt - 1 || !call.continues) {
    throw new Error(`store: fallback ${attempt} of ${call.callId} does not follow its attempt ${call.attempt}`);
  }
  const planner = new Planner([loaded], [], nowMs);
  if (provider !== undefined) {
    planner.startNextAttempt(call.callId, provider);
  } else {
    planner.append(call.callId, {
      state: CallState.FAILED,
      failureReason: call.failureReason,
      providerCallId: "",
      providerCode: "",
      providerText: endText,
      occurredAtMs: undefined,
    });
  }
  return planner.writes();
}

/** Deadline expiry of calls still not terminal: one (provisional) event each. */
export function planExpiry(calls: readonly LoadedCall[], fields: EventFields, nowMs: number): Writes {
  const planner = new Planner(calls, [], nowMs);
  for (const { call } of calls) planner.append(call.callId, fields);
  return planner.writes();
}
