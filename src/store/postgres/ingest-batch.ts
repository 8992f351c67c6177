/**
 * Several webhook requests of one provider stored in one pass (group-commit.ts runs
 * consecutive ingests of a provider as a batch): one lock, insert, load and write
 * statement for all of their pushes, where each request took five. Planned as one batch
 * of pushes in arrival order (the same rules as ingest.ts), then each request gets back
 * what its own pushes did: its duplicates, stale and parked pushes by dedupe key, its
 * events by the call its pushes name.
 *
 * That split needs every call to be named by one request only. Requests whose ids
 * overlap run one after another instead (same transaction); a call that turns out to be
 * named by two of them through different ids (one by its echo, one by its provider id)
 * makes the batch throw, and the group writer runs each request alone.
 */
import type { EventRecord } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import { ingestKeys, planIngest } from "../plan/ingest-plan.js";
import type { IngestResult } from "../store.js";
import { claimPushes, ingest } from "./ingest.js";
import { executeWrites } from "./plan-io.js";
import type * as q from "./queries.js";
import { storablePush } from "./rows.js";

export interface IngestRequest {
  readonly provider: string;
  readonly pushes: readonly InboundEvent[];
  readonly nowMs: number;
}

/** Thrown when two requests of a batch name one call: each must run alone. */
export class IngestOverlap extends Error {
  override readonly name = "IngestOverlap";
}

function overlapping(requests: readonly IngestRequest[]): boolean {
  const seen = new Set<string>();
  for (const r of requests) {
    const keys = ingestKeys(r.pushes);
    const mine = new Set([...keys.callIds.map((id) => `c:${id}`), ...keys.providerCallIds.map((id) => `p:${id}`)]);
    for (const k of mine) {
      if (seen.has(k)) return true;
    }
    for (const k of mine) seen.add(k);
  }
  return false;
}

/** Stores the requests (one provider) as ingest would one by one; results in order. */
export async function ingestMany(db: q.Db, requests: readonly IngestRequest[]): Promise<IngestResult[]> {
  const provider = requests[0]?.provider;
  if (requests.length <= 1 || requests.some((r) => r.provider !== provider) || overlapping(requests)) {
    const results: IngestResult[] = [];
    for (const r of requests) results.push(await ingest(db, r.provider, r.pushes, r.nowMs));
    return results;
  }
  if (provider === undefined) return [];
  // Received when the last of them was: the batch's events and rows carry that time.
  const nowMs = Math.max(...requests.map((r) => r.nowMs));
  const owned = requests.flatMap((r, owner) => r.pushes.map((p) => ({ owner, push: storablePush(p) })));
  const pushes = owned.map((o) => o.push);
  const { seen, calls, parked } = await claimPushes(db, provider, pushes, nowMs);
  // Which request names each call; two naming one: the split below would be a guess.
  const ownerOf = new Map<string, number>();
  requests.forEach((r, owner) => {
    const k = ingestKeys(r.pushes);
    const ids = new Set(k.callIds);
    const pcs = new Set(k.providerCallIds);
    for (const c of calls) {
      const named = ids.has(c.call.callId) || pcs.has(c.call.providerCallId) || c.attempts.some((a) => pcs.has(a.providerCallId));
      if (!named) continue;
      if (ownerOf.has(c.call.callId) && ownerOf.get(c.call.callId) !== owner) throw new IngestOverlap("two requests name one call");
      ownerOf.set(c.call.callId, owner);
    }
  });
  const plan = planIngest({ provider, pushes, seen, calls, parked, nowMs });
  const appended = await executeWrites(db, plan.writes, nowMs);

  const results = requests.map(() => ({ appended: [] as EventRecord[], duplicates: 0, stale: 0, parked: 0 }));
  const firstOwner = new Map<string, number>();
  for (const { owner, push } of owned) {
    const result = results[owner];
    if (result === undefined) continue;
    if (seen.has(push.dedupeKey) || firstOwner.has(push.dedupeKey)) result.duplicates++;
    else firstOwner.set(push.dedupeKey, owner);
  }
  for (const w of plan.writes.inbound) {
    if (!w.received) continue;
    const result = results[firstOwner.get(w.push.dedupeKey) ?? -1];
    if (result === undefined) continue;
    if (w.disposition === "stale") result.stale++;
    if (w.disposition === "parked") result.parked++;
  }
  for (const event of appended) {
    const result = results[ownerOf.get(event.callId) ?? -1];
    if (result === undefined) throw new IngestOverlap(`event for call ${event.callId} no request named`);
    result.appended.push(event);
  }
  return results;
}
