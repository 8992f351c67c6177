/**
 * Stores a batch of provider pushes inside the caller's transaction: a throw anywhere
 * discards the whole batch, dedupe rows included, so the provider's retry counts as new.
 * Mirrors src/store/sqlite/ingest.ts.
 */
import { parseEcho } from "../../core/attempts.js";
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

/**
 * The call and attempt a push belongs to. The echo wins when it names an attempt this
 * provider carried; the provider id otherwise (the call's current attempt, or an
 * earlier one, whose pushes are then stale). Mirrors src/store/sqlite/ingest.ts.
 */
async function findCall(
  db: q.Db,
  provider: string,
  push: InboundEvent,
): Promise<{ readonly call: CallRecord; readonly attempt: number } | undefined> {
  if (push.callId !== undefined && push.callId !== "") {
    const echo = parseEcho(push.callId);
    const echoed = await loadCall(db, echo.callId);
    if (echoed !== undefined && (await q.attempt(db, echoed.callId, echo.attempt))?.provider === provider) {
      return { call: echoed, attempt: echo.attempt };
    }
  }
  if (push.providerCallId === "") return undefined;
  const row = await q.callByProviderCallId(db, provider, push.providerCallId);
  if (row !== undefined) return { call: toCallRecord(row), attempt: row.attempt };
  const earlier = await q.attemptByProviderCallId(db, provider, push.providerCallId);
  const call = earlier === undefined ? undefined : await loadCall(db, earlier.call_id);
  return call === undefined || earlier === undefined ? undefined : { call, attempt: earlier.attempt };
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
    const found = await findCall(db, provider, push);
    if (found === undefined) continue;
    const { call, attempt } = found;
    if (attempt === call.attempt && (await claimProviderCallId(db, call, push.providerCallId, nowMs))) {
      // The push (still parked) and any earlier ones for this provider id now match.
      appended.push(...(await adoptParked(db, call.callId, nowMs, onSettle)));
    } else {
      const { disposition, event } = await applyPush(db, call.callId, push, nowMs, { attempt, provider });
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
