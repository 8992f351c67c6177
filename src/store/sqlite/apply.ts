/**
 * The state-change rules shared by recordSendResult and ingest. Every function here
 * runs inside the caller's transaction and re-reads the call it changes, because one
 * batch may move the same call several times.
 */
import { type CallRoute, echoFor, fallbackDue, pushBelongsToCurrent } from "../../core/attempts.js";
import { CallState, FailureReason, type CallRecord, type EventRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import { changesCall, stateRank } from "../../core/states.js";
import { toCallRecord, toEventRecord, toInboundEvent, type Disposition } from "./rows.js";
import type { Statements } from "./statements.js";

export interface EventFields {
  readonly state: CallState;
  readonly failureReason: FailureReason;
  readonly providerCallId: string;
  readonly providerCode: string;
  readonly providerText: string;
  readonly occurredAtMs: number | undefined;
  /** Only meaningful on FAILED: a later precise failure may replace this reason. */
  readonly provisional?: boolean | undefined;
}

/** Called with the final disposition of every inbound row a change settles. */
export type SettleListener = (dedupeKey: string, disposition: Disposition) => void;

export function loadCall(st: Statements, callId: string): CallRecord | undefined {
  const row = st.callById.get(callId);
  return row === undefined ? undefined : toCallRecord(row);
}

export function mustLoadCall(st: Statements, callId: string): CallRecord {
  const call = loadCall(st, callId);
  if (call === undefined) throw new Error(`sqlite store: unknown call ${callId}`);
  return call;
}

/**
 * Appends an event to the call's current attempt and moves the call; the caller has
 * checked `changesCall`. `continues`: a FAILED after which another attempt follows.
 */
export function appendEvent(
  st: Statements,
  call: CallRecord,
  fields: EventFields,
  nowMs: number,
  continues = false,
): EventRecord {
  // A reason only means something on FAILED; providers attach codes to other states too.
  const failureReason =
    fields.state === CallState.FAILED ? fields.failureReason : FailureReason.UNSPECIFIED;
  const provisional = fields.state === CallState.FAILED && fields.provisional === true;
  const row = st.insertEvent.get({
    call_id: call.callId,
    tenant: call.tenant,
    client_reference: call.clientReference,
    state: fields.state,
    failure_reason: failureReason,
    provider: call.provider,
    // An echo-only push carries no provider id; the call's is the better answer.
    provider_call_id: fields.providerCallId || call.providerCallId,
    provider_code: fields.providerCode,
    provider_text: fields.providerText,
    occurred_at_ms: fields.occurredAtMs ?? null,
    recorded_at_ms: nowMs,
    provisional: provisional ? 1 : 0,
    attempt: call.attempt,
    continues: continues ? 1 : 0,
  });
  if (row === undefined) throw new Error("sqlite store: event insert returned no row");
  st.setCallState.run({
    call_id: call.callId,
    state: fields.state,
    failure_reason: failureReason,
    reason_provisional: provisional ? 1 : 0,
    continues: continues ? 1 : 0,
    now_ms: nowMs,
  });
  return toEventRecord(row);
}

/** The route stored with the call, when a later attempt may follow it. */
export function loadRoute(st: Statements, callId: string): CallRoute | undefined {
  const row = st.callRoute.get(callId);
  return row?.route == null ? undefined : (JSON.parse(row.route) as CallRoute);
}

/** Moves the call to its next attempt, on `provider`, PENDING. */
export function startNextAttempt(st: Statements, call: CallRecord, provider: string, nowMs: number): void {
  const attempt = call.attempt + 1;
  st.startAttempt.run(attempt, provider, nowMs, call.callId);
  st.insertAttempt.run(call.callId, attempt, provider, nowMs);
}

/**
 * Gives the call its provider id if it has none and no other call holds it. Returns
 * whether it was set. A clash means the provider reused an id or echoed a wrong call
 * id; failing the batch would make the provider retry it forever, so it is skipped.
 */
export function claimProviderCallId(
  st: Statements,
  call: CallRecord,
  providerCallId: string,
  nowMs: number,
): boolean {
  if (call.providerCallId !== "" || providerCallId === "") return false;
  if (st.callByProviderCallId.get(call.provider, providerCallId) !== undefined) return false;
  st.setProviderCallId.run(providerCallId, nowMs, call.callId);
  st.setAttemptProviderCallId.run(providerCallId, call.callId, call.attempt);
  return true;
}

/**
 * Applies one push of attempt `attempt` (default: the call's current one) to the call
 * it belongs to and records the push's disposition. The first FAILED of an attempt may
 * decide the next one (outcome fallback), durably, in this transaction.
 */
export function applyPush(
  st: Statements,
  callId: string,
  push: InboundEvent,
  nowMs: number,
  from?: { readonly attempt: number; readonly provider: string },
): { readonly disposition: Disposition; readonly event: EventRecord | undefined } {
  const row = st.callById.get(callId);
  if (row === undefined) throw new Error(`sqlite store: unknown call ${callId}`);
  const call = toCallRecord(row);
  let event: EventRecord | undefined;
  if (pushBelongsToCurrent(call, from?.attempt ?? call.attempt) && changesCall(call, push)) {
    const continues =
      push.state === CallState.FAILED &&
      call.state !== CallState.FAILED &&
      fallbackDue(
        loadRoute(st, callId),
        call.attempt,
        push.failureReason,
        st.attemptsByCall.all(callId).map((a) => a.provider),
        nowMs,
      );
    event = appendEvent(st, call, push, nowMs, continues);
    if (continues) st.insertFallback.run(callId, call.attempt + 1, nowMs);
  }
  const disposition: Disposition = event === undefined ? "stale" : "applied";
  st.setDisposition.run({
    provider: from?.provider ?? call.provider,
    dedupe_key: push.dedupeKey,
    disposition,
    call_id: call.callId,
    applied_sequence: event?.sequence ?? null,
  });
  return { disposition, event };
}

/**
 * Applies the parked pushes that now match the call (by its provider id or by an echo
 * of its call id). They arrived before we could match them, possibly out of order, so
 * they go in lifecycle order; arrival order breaks ties, so the first terminal wins.
 */
export function adoptParked(
  st: Statements,
  callId: string,
  nowMs: number,
  onSettle: SettleListener,
): EventRecord[] {
  const call = mustLoadCall(st, callId);
  const parked = st.parkedFor
    .all({ provider: call.provider, provider_call_id: call.providerCallId, call_id: echoFor(call.callId, call.attempt) })
    .map(toInboundEvent)
    // Array.prototype.sort is stable, and the rows come in arrival order.
    .sort((a, b) => stateRank(a.state) - stateRank(b.state));
  const appended: EventRecord[] = [];
  for (const push of parked) {
    const { disposition, event } = applyPush(st, callId, push, nowMs);
    if (event !== undefined) appended.push(event);
    onSettle(push.dedupeKey, disposition);
  }
  return appended;
}
