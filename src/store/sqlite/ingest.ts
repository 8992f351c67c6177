/**
 * Stores a batch of provider pushes; runs inside the caller's transaction, so a throw
 * anywhere discards the whole batch, dedupe rows included, and the provider's retry
 * is treated as new.
 */
import type { CallRecord, EventRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import type { IngestResult } from "../store.js";
import { adoptParked, applyPush, claimProviderCallId, loadCall } from "./apply.js";
import { toCallRecord, type Disposition } from "./rows.js";
import type { Statements } from "./statements.js";

/** The echo wins when it names one of this provider's calls; the provider id otherwise. */
function findCall(st: Statements, provider: string, push: InboundEvent): CallRecord | undefined {
  if (push.callId !== undefined && push.callId !== "") {
    const echoed = loadCall(st, push.callId);
    if (echoed !== undefined && echoed.provider === provider) return echoed;
  }
  if (push.providerCallId === "") return undefined;
  const row = st.callByProviderCallId.get(provider, push.providerCallId);
  return row === undefined ? undefined : toCallRecord(row);
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
    const call = findCall(st, provider, push);
    if (call === undefined) continue;
    if (claimProviderCallId(st, call, push.providerCallId, nowMs)) {
      // The push (still parked) and any earlier ones for this provider id now match.
      appended.push(...adoptParked(st, call.callId, nowMs, onSettle));
    } else {
      const { disposition, event } = applyPush(st, call.callId, push, nowMs);
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
