/**
 * Stores a batch of provider pushes; runs inside the caller's transaction (or savepoint),
 * so a throw anywhere discards the whole batch, dedupe rows included, and the provider's
 * retry is treated as new. The rules are the planner's (src/store/plan/ingest-plan.ts);
 * this loads, in a fixed number of statements per batch, and writes.
 */
import { ingestKeys, mayAdopt, planIngest } from "../plan/ingest-plan.js";
import type { InboundEvent } from "../../core/provider.js";
import type { IngestResult } from "../store.js";
import { executeWrites, loadParked, toLoadedCall } from "./plan-io.js";
import type { Statements } from "./statements.js";

export function ingest(
  st: Statements,
  provider: string,
  pushes: readonly InboundEvent[],
  nowMs: number,
): IngestResult {
  if (pushes.length === 0) return { appended: [], duplicates: 0, stale: 0, parked: 0 };
  const seen = new Set(
    st.seenDedupeKeys.all(provider, JSON.stringify(pushes.map((p) => p.dedupeKey))).map((r) => r.dedupe_key),
  );
  const keys = ingestKeys(pushes.filter((p) => !seen.has(p.dedupeKey)));
  const calls =
    keys.callIds.length === 0 && keys.providerCallIds.length === 0
      ? []
      : st.loadedCallsFor
          .all({
            provider,
            call_ids: JSON.stringify(keys.callIds),
            provider_call_ids: JSON.stringify(keys.providerCallIds),
          })
          .map(toLoadedCall);
  const echoes = mayAdopt(calls, keys);
  const parked = echoes.length === 0 ? [] : loadParked(st, provider, keys.providerCallIds, echoes);
  const plan = planIngest({ provider, pushes, seen, calls, parked, nowMs });
  const before = new Map(calls.map((c) => [c.call.callId, c.call] as const));
  const appended = executeWrites(st, plan.writes, nowMs, before);
  return { appended, duplicates: plan.duplicates, stale: plan.stale, parked: plan.parked };
}
