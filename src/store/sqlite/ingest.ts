/**
 * Stores a batch of provider pushes; runs inside the caller's transaction, so a throw
 * anywhere discards the whole batch, dedupe rows included, and the provider's retry
 * is treated as new.
 */
import { parseEcho } from "../../core/attempts.js";
import type { CallRecord, EventRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import type { IngestResult } from "../store.js";
import { adoptParked, applyPush, claimProviderCallId, loadCall } from "./apply.js";
import { toCallRecord, type Disposition } from "./rows.js";
import type { Statements } from "./statements.js";

/**
 * The call and attempt a push belongs to. The echo wins when it names an attempt this
 * provider carried; the provider id otherwise (the call's current attempt, or an
 * earlier one, whose pushes are then stale).
 */
function findCall(
  st: Statements,
  provider: string,
  push: InboundEvent,
): { readonly call: CallRecord; readonly attempt: number } | undefined {
  if (push.callId !== undefined && push.callId !== "") {
    const echo = parseEcho(push.callId);
    const echoed = loadCall(st, echo.callId);
    if (echoed !== undefined && st.attempt.get(echoed.callId, echo.attempt)?.provider === provider) {
      return { call: echoed, attempt: echo.attempt };
    }
  }
  if (push.providerCallId === "") return undefined;
  const row = st.callByProviderCallId.get(provider, push.providerCallId);
  if (row !== undefined) return { call: toCallRecord(row), attempt: row.attempt };
  const earlier = st.attemptByProviderCallId.get(provider, push.providerCallId);
  const call = earlier === undefined ? undefined : loadCall(st, earlier.call_id);
  return call === undefined || earlier === undefined ? undefined : { call, attempt: earlier.attempt };
}

export function ingest(
  st: Statements,
  provider: string,
  pushes: readonly InboundEvent[],
  nowMs: number,
): IngestResult {
  const appended: EventRecord[] = [];
  // Final disposition of this batch's pushes: one may be parked, then adopted later in
  // the same batch when a sibling push reveals its call.
  const settled = new Map<string, Disposition>();
  const onSettle = (key: string, disposition: Disposition): void => {
    if (settled.has(key)) settled.set(key, disposition);
  };
  let duplicates = 0;
  for (const push of pushes) {
    const inserted = st.insertInbound.run({
      provider,
      dedupe_key: push.dedupeKey,
      provider_call_id: push.providerCallId,
      call_id_hint: push.callId ?? null,
      state: push.state,
      failure_reason: push.failureReason,
      provider_code: push.providerCode,
      provider_text: push.providerText,
      occurred_at_ms: push.occurredAtMs ?? null,
      provisional: push.provisional === true ? 1 : 0,
      received_at_ms: nowMs,
    });
    if (inserted.changes === 0) {
      duplicates++;
      continue;
    }
    settled.set(push.dedupeKey, "parked");
    const found = findCall(st, provider, push);
    if (found === undefined) continue;
    const { call, attempt } = found;
    if (attempt === call.attempt && claimProviderCallId(st, call, push.providerCallId, nowMs)) {
      // The push (still parked) and any earlier ones for this provider id now match.
      appended.push(...adoptParked(st, call.callId, nowMs, onSettle));
    } else {
      const { disposition, event } = applyPush(st, call.callId, push, nowMs, { attempt, provider });
      if (event !== undefined) appended.push(event);
      settled.set(push.dedupeKey, disposition);
    }
  }
  let stale = 0;
  let parked = 0;
  for (const disposition of settled.values()) {
    if (disposition === "stale") stale++;
    if (disposition === "parked") parked++;
  }
  return { appended, duplicates, stale, parked };
}
