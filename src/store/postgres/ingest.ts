/**
 * Stores a batch of provider pushes inside the caller's transaction: a throw anywhere
 * discards the whole batch, dedupe rows included, so the provider's retry counts as new.
 * Mirrors src/store/sqlite/ingest.ts.
 */
import type { CallRecord, EventRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import type { IngestResult } from "../store.js";
import {
  adoptParked,
  applyPush,
  claimProviderCallId,
  loadCall,
} from "./apply.js";
import * as q from "./queries.js";
import { type Disposition, storablePush, toCallRecord } from "./rows.js";

/** The echo wins when it names one of this provider's calls; the provider id otherwise. */
async function findCall(
  db: q.Db,
  provider: string,
  push: InboundEvent,
): Promise<CallRecord | undefined> {
  if (push.callId !== undefined && push.callId !== "") {
    const echoed = await loadCall(db, push.callId);
    if (echoed !== undefined && echoed.provider === provider) return echoed;
  }
  if (push.providerCallId === "") return undefined;
  const row = await q.callByProviderCallId(db, provider, push.providerCallId);
  return row === undefined ? undefined : toCallRecord(row);
}

export async function ingest(
  db: q.Db,
  provider: string,
  pushes: readonly InboundEvent[],
  nowMs: number,
): Promise<IngestResult> {
  const appended: EventRecord[] = [];
  // Final disposition of this batch's pushes: one may be parked, then adopted later in
  // the same batch when a sibling push reveals its call.
  const settled = new Map<string, Disposition>();
  const onSettle = (key: string, disposition: Disposition): void => {
    if (settled.has(key)) settled.set(key, disposition);
  };
  let duplicates = 0;
  const storable = pushes.map(storablePush);
  await q.lockProviderCallIds(
    db,
    provider,
    storable.map((p) => p.providerCallId),
  );
  for (const push of storable) {
    const inserted = await q.insertInbound(db, {
      provider,
      dedupe_key: push.dedupeKey,
      provider_call_id: push.providerCallId,
      call_id_hint: push.callId ?? null,
      state: push.state,
      failure_reason: push.failureReason,
      provider_code: push.providerCode,
      provider_text: push.providerText,
      occurred_at_ms: push.occurredAtMs ?? null,
      provisional: push.provisional === true,
      received_at_ms: nowMs,
    });
    if (!inserted) {
      duplicates++;
      continue;
    }
    settled.set(push.dedupeKey, "parked");
    const call = await findCall(db, provider, push);
    if (call === undefined) continue;
    if (await claimProviderCallId(db, call, push.providerCallId, nowMs)) {
      // The push (still parked) and any earlier ones for this provider id now match.
      appended.push(...(await adoptParked(db, call.callId, nowMs, onSettle)));
    } else {
      const { disposition, event } = await applyPush(db, call.callId, push, nowMs);
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
