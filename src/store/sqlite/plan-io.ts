/**
 * The SQLite side of the planner (src/store/plan): loads what a plan needs and executes
 * the writes it returns. No rule lives here. Runs inside the caller's transaction.
 */
import type { CallRoute } from "../../core/attempts.js";
import type { CallRecord, EventRecord } from "../../core/model.js";
import type { AttemptRef, LoadedCall, ParkedPush, Writes } from "../plan/writes.js";
import { detailColumns, insertedEventRecord, toCallRecord, toInboundEvent, type InboundRow } from "./rows.js";
import type { LoadedCallRow, Statements } from "./statements.js";

export function toLoadedCall(row: LoadedCallRow): LoadedCall {
  const attempts = (JSON.parse(row.attempts_json) as Array<[number, string, string]>)
    .map(([attempt, provider, providerCallId]): AttemptRef => ({ attempt, provider, providerCallId }))
    .sort((a, b) => a.attempt - b.attempt);
  return {
    call: toCallRecord(row),
    route: row.route === null ? undefined : (JSON.parse(row.route) as CallRoute),
    attempts,
  };
}

export function loadCall(st: Statements, callId: string): LoadedCall | undefined {
  const row = st.loadedCallById.get(callId);
  return row === undefined ? undefined : toLoadedCall(row);
}

export function mustLoadCall(st: Statements, callId: string): LoadedCall {
  const call = loadCall(st, callId);
  if (call === undefined) throw new Error(`sqlite store: unknown call ${callId}`);
  return call;
}

export function toParked(rows: readonly InboundRow[]): ParkedPush[] {
  return rows.map((row) => ({ provider: row.provider, push: toInboundEvent(row) }));
}

export function loadParked(
  st: Statements,
  provider: string,
  providerCallIds: readonly string[],
  echoes: readonly string[],
): ParkedPush[] {
  if (providerCallIds.length === 0 && echoes.length === 0) return [];
  return toParked(
    st.parkedForBatch.all({
      provider,
      provider_call_ids: JSON.stringify(providerCallIds),
      call_ids: JSON.stringify(echoes),
    }),
  );
}

/**
 * Executes a plan's writes; returns the appended events in sequence order. `loaded`: the
 * calls as the plan found them, when the caller has them at hand (a call whose attempt,
 * provider and provider id did not change gets the narrower update).
 */
export function executeWrites(
  st: Statements,
  writes: Writes,
  nowMs: number,
  loaded?: ReadonlyMap<string, CallRecord>,
): EventRecord[] {
  const events = writes.events.map((e) => {
    const details = detailColumns(e.details);
    const inserted = st.insertEvent.run(
      e.callId,
      e.tenant,
      e.clientReference,
      e.state,
      e.failureReason,
      e.provider,
      e.providerCallId,
      e.providerCode,
      e.providerText,
      e.occurredAtMs ?? null,
      e.recordedAtMs,
      e.provisional ? 1 : 0,
      e.attempt,
      e.continues ? 1 : 0,
      details.pressed_key,
      details.duration_seconds,
      details.answered_at_ms,
      details.ended_at_ms,
    );
    return insertedEventRecord(e, Number(inserted.lastInsertRowid));
  });
  for (const call of writes.calls) writeCall(st, call, loaded?.get(call.callId));
  for (const a of writes.newAttempts) st.insertAttempt.run(a.callId, a.attempt, a.provider, nowMs);
  for (const a of writes.attemptAnswers) {
    st.setAttemptAnswer.run({
      call_id: a.callId,
      attempt: a.attempt,
      outcome: a.outcome,
      provider_call_id: a.providerCallId,
      failure_reason: a.failureReason,
      provider_code: a.providerCode,
      provider_text: a.providerText,
      ended_at_ms: a.endedAtMs,
    });
  }
  for (const a of writes.attemptProviderCallIds) st.setAttemptProviderCallId.run(a.providerCallId, a.callId, a.attempt);
  for (const f of writes.fallbacks) st.insertFallback.run(f.callId, f.attempt, nowMs);
  for (const w of writes.inbound) {
    const applied = w.eventIndex === undefined ? null : (events[w.eventIndex]?.sequence ?? null);
    if (!w.received) {
      st.setDisposition.run({
        provider: w.provider,
        dedupe_key: w.push.dedupeKey,
        disposition: w.disposition,
        call_id: w.callId,
        applied_sequence: applied,
      });
      continue;
    }
    // Deduped by the caller against the store and the batch: a conflict here is a bug,
    // and throws.
    const push = w.push;
    const details = detailColumns(push.details);
    st.insertSettledInbound.run(
      w.provider,
      push.dedupeKey,
      push.providerCallId,
      push.callId ?? null,
      push.state,
      push.failureReason,
      push.providerCode,
      push.providerText,
      push.occurredAtMs ?? null,
      push.provisional === true ? 1 : 0,
      w.disposition,
      w.callId,
      applied,
      nowMs,
      details.pressed_key,
      details.duration_seconds,
      details.answered_at_ms,
      details.ended_at_ms,
    );
  }
  return events;
}

function writeCall(st: Statements, call: CallRecord, before: CallRecord | undefined): void {
  const continues = call.continues ? 1 : 0;
  const provisional = call.reasonProvisional ? 1 : 0;
  if (
    before !== undefined &&
    before.attempt === call.attempt &&
    before.provider === call.provider &&
    before.providerCallId === call.providerCallId
  ) {
    st.moveCall.run(call.state, call.failureReason, provisional, continues, call.updatedAtMs, call.state, continues, call.callId);
    return;
  }
  st.writeCall.run(
    call.state,
    call.failureReason,
    provisional,
    continues,
    call.providerCallId,
    call.attempt,
    call.provider,
    call.updatedAtMs,
    call.state,
    continues,
    call.callId,
  );
}
