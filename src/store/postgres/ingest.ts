/**
 * Stores a batch of provider pushes inside the caller's transaction: a throw anywhere
 * discards the whole batch, dedupe rows included, so the provider's retry counts as new.
 * The rules are the planner's (src/store/plan/ingest-plan.ts); this takes the locks,
 * loads in a fixed number of statements per batch, and writes.
 */
import type { InboundEvent } from "../../core/provider.js";
import { ingestKeys, mayAdopt, planIngest } from "../plan/ingest-plan.js";
import type { IngestResult } from "../store.js";
import { executeWrites, loadParked, lockCallsFor } from "./plan-io.js";
import * as q from "./queries.js";
import { detailColumns, storablePush } from "./rows.js";

export async function ingest(
  db: q.Db,
  provider: string,
  pushes: readonly InboundEvent[],
  nowMs: number,
): Promise<IngestResult> {
  if (pushes.length === 0) return { appended: [], duplicates: 0, stale: 0, parked: 0 };
  const storable = pushes.map(storablePush);
  const { seen, calls, parked } = await claimPushes(db, provider, storable, nowMs);
  const plan = planIngest({ provider, pushes: storable, seen, calls, parked, nowMs });
  const appended = await executeWrites(db, plan.writes, nowMs);
  return { appended, duplicates: plan.duplicates, stale: plan.stale, parked: plan.parked };
}

/**
 * The loading half of an ingest, for `storable` pushes of one provider received at
 * `nowMs`: their locks and dedupe rows taken, and what the planner needs besides them.
 * Shared by one request's ingest and a batch of requests (ingest-batch.ts).
 */
export async function claimPushes(
  db: q.Db,
  provider: string,
  storable: readonly InboundEvent[],
  nowMs: number,
): Promise<{
  /** Keys received before (by this or another replica): duplicates. */
  readonly seen: ReadonlySet<string>;
  readonly calls: Awaited<ReturnType<typeof lockCallsFor>>;
  /** Older parked pushes the calls may adopt (this batch's own are the planner's already). */
  readonly parked: Awaited<ReturnType<typeof loadParked>>;
}> {
  // The provider call ids' locks first, in one sorted order, then the rows (queries.ts).
  // The unique (provider, dedupe_key) is the dedupe across replicas: inserted parked
  // first, settled below; a key another transaction holds makes this insert wait for it.
  const fresh = await q.insertInboundBatch(
    db,
    provider,
    storable.map((push) => ({
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
      ...detailColumns(push.details),
    })),
  );
  const seen = new Set(storable.map((p) => p.dedupeKey).filter((k) => !fresh.has(k)));
  const keys = ingestKeys(storable.filter((p) => fresh.has(p.dedupeKey)));
  const calls = await lockCallsFor(db, provider, keys.callIds, keys.providerCallIds);
  const echoes = mayAdopt(calls, keys);
  const parked = (echoes.length === 0 ? [] : await loadParked(db, provider, keys.providerCallIds, echoes)).filter(
    (p) => !fresh.has(p.push.dedupeKey),
  );
  return { seen, calls, parked };
}
