/**
 * The state-change rules shared by recordSendResult and ingest, as in the SQLite engine
 * (src/store/sqlite/apply.ts). Every function runs inside the caller's transaction.
 * Calls are loaded row-locked: writers of one call queue on its row, and each re-read
 * sees what the one before committed. That lock, taken before the first event of the
 * call is inserted, is also what keeps one call's sequences in commit order (visibility.ts).
 */
import { type CallRoute, echoFor, fallbackDue, pushBelongsToCurrent } from "../../core/attempts.js";
import { CallState, FailureReason, type CallRecord, type EventRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import { changesCall, stateRank } from "../../core/states.js";
import * as q from "./queries.js";
import { type Disposition, toCallRecord, toEventRecord, toInboundEvent } from "./rows.js";

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

/** The call, row-locked until the transaction ends (see the file comment). */
export async function loadCall(db: q.Db, callId: string): Promise<CallRecord | undefined> {
  const row = await q.lockCall(db, callId);
  return row === undefined ? undefined : toCallRecord(row);
}

export async function mustLoadCall(db: q.Db, callId: string): Promise<CallRecord> {
  const call = await loadCall(db, callId);
  if (call === undefined) throw new Error(`postgres store: unknown call ${callId}`);
  return call;
}

/**
 * Appends an event to the call's current attempt and moves the call; the caller has
 * checked `changesCall`. `continues`: a FAILED after which another attempt follows.
 */
export async function appendEvent(
  db: q.Db,
  call: CallRecord,
  fields: EventFields,
  nowMs: number,
  continues = false,
): Promise<EventRecord> {
  const failed = fields.state === CallState.FAILED;
  // A reason only means something on FAILED; providers attach codes to other states too.
  const failureReason = failed ? fields.failureReason : FailureReason.UNSPECIFIED;
  const provisional = failed && fields.provisional === true;
  const row = await q.insertEvent(db, {
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
    provisional,
    attempt: call.attempt,
    continues,
  });
  await q.setCallState(db, call.callId, fields.state, failureReason, provisional, nowMs, continues);
  return toEventRecord(row);
}

/** The route stored with the call, when a later attempt may follow it. */
export async function loadRoute(db: q.Db, callId: string): Promise<CallRoute | undefined> {
  const row = await q.callRoute(db, callId);
  return row?.route == null ? undefined : (row.route as CallRoute);
}

/** Moves the call to its next attempt, on `provider`, PENDING. */
export async function startNextAttempt(db: q.Db, call: CallRecord, provider: string, nowMs: number): Promise<void> {
  await q.startAttempt(db, call.callId, call.attempt + 1, provider, nowMs);
}

/**
 * Gives the call its provider id if it has none and no other call holds it. A clash
 * means the provider reused an id or echoed a wrong call id; failing the batch would
 * make the provider retry it forever, so it is skipped.
 */
export async function claimProviderCallId(
  db: q.Db,
  call: CallRecord,
  providerCallId: string,
  nowMs: number,
): Promise<boolean> {
  if (call.providerCallId !== "" || providerCallId === "") return false;
  if ((await q.callByProviderCallId(db, call.provider, providerCallId)) !== undefined) return false;
  await q.setProviderCallId(db, call.callId, providerCallId, nowMs);
  await q.setAttemptProviderCallId(db, call.callId, call.attempt, providerCallId);
  return true;
}

/**
 * Applies one push of attempt `from.attempt` (default: the call's current one) to the
 * call it belongs to and records the push's disposition. The first FAILED of an attempt
 * may decide the next one (outcome fallback), durably, in this transaction.
 */
export async function applyPush(
  db: q.Db,
  callId: string,
  push: InboundEvent,
  nowMs: number,
  from?: { readonly attempt: number; readonly provider: string },
): Promise<{ readonly disposition: Disposition; readonly event: EventRecord | undefined }> {
  const call = await mustLoadCall(db, callId);
  let event: EventRecord | undefined;
  if (pushBelongsToCurrent(call, from?.attempt ?? call.attempt) && changesCall(call, push)) {
    const continues =
      push.state === CallState.FAILED &&
      call.state !== CallState.FAILED &&
      fallbackDue(
        await loadRoute(db, callId),
        call.attempt,
        push.failureReason,
        (await q.attemptsByCall(db, callId)).map((a) => a.provider),
        nowMs,
      );
    event = await appendEvent(db, call, push, nowMs, continues);
    if (continues) await q.insertFallback(db, callId, call.attempt + 1, nowMs);
  }
  const disposition: Disposition = event === undefined ? "stale" : "applied";
  await q.setDisposition(db, {
    provider: from?.provider ?? call.provider,
    dedupeKey: push.dedupeKey,
    disposition,
    callId: call.callId,
    appliedSequence: event?.sequence ?? null,
  });
  return { disposition, event };
}

/**
 * Applies the parked pushes that now match the call, in lifecycle order; arrival order
 * breaks ties, so the first terminal wins (and a precise failure after a provisional
 * one still refines it).
 */
export async function adoptParked(
  db: q.Db,
  callId: string,
  nowMs: number,
  onSettle: SettleListener,
): Promise<EventRecord[]> {
  const call = await mustLoadCall(db, callId);
  const parked = (await q.parkedFor(db, call.provider, call.providerCallId, echoFor(call.callId, call.attempt)))
    .map(toInboundEvent)
    // Array.prototype.sort is stable, and the rows come in arrival order.
    .sort((a, b) => stateRank(a.state) - stateRank(b.state));
  const appended: EventRecord[] = [];
  for (const push of parked) {
    const { disposition, event } = await applyPush(db, callId, push, nowMs);
    if (event !== undefined) appended.push(event);
    onSettle(push.dedupeKey, disposition);
  }
  return appended;
}
