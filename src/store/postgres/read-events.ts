/**
 * listEvents for PostgreSQL. One call's events are read as they are: its writers queue on
 * the call's row, so its sequences commit in order (visibility.ts). A client reference
 * spans calls written in parallel, so its reads stop at the horizon, below which nothing
 * can still commit. An event that committed a moment ago sits above the horizon until the
 * transactions open at that moment end, normally milliseconds; rather than return the
 * read without it, which would surprise a caller that just wrote it, the read is repeated
 * until it is below the horizon, for at most waitMs. After that (an open transaction that
 * does not end: a frozen replica, until the server ends it) it returns what is final; the
 * bus announces the rest once it is final too.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { EventRecord } from "../../core/model.js";
import type { EventFilter } from "../store.js";
import * as q from "./queries.js";
import { toEventRecord } from "./rows.js";

export interface ReadEventsOptions {
  /** Longest wait for events above the horizon to fall below it. Default 1 000 ms. */
  readonly waitMs?: number;
  /** Test-only: false returns client-reference events without the horizon (see postgres-store.ts). */
  readonly horizon?: boolean;
  readonly now?: () => number;
}

/** First pause between re-reads; doubles up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 2;
const MAX_PAUSE_MS = 100;

export async function readEvents(
  db: q.Db,
  filter: EventFilter,
  afterSequence: number,
  limit: number,
  options: ReadEventsOptions = {},
): Promise<EventRecord[]> {
  if (limit <= 0) return [];
  const max = Math.floor(limit);
  if ("callId" in filter) {
    return (await q.eventsAfter(db, "call_id", filter.callId, afterSequence, max)).map(toEventRecord);
  }
  const ref = filter.clientReference;
  const tenant = filter.tenant;
  if (options.horizon === false) {
    return (await q.eventsAfter(db, "client_reference", ref, afterSequence, max, tenant)).map(toEventRecord);
  }
  const now = options.now ?? Date.now;
  const deadline = now() + (options.waitMs ?? 1_000);
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(MAX_PAUSE_MS, pause * 2)) {
    const rows = await q.eventsAfterWithHorizon(db, "client_reference", ref, afterSequence, max, tenant);
    const final = rows.filter((r) => r.final);
    if (final.length === rows.length || now() >= deadline) {
      return final.map(({ final: _, ...row }) => toEventRecord(row));
    }
    await sleep(Math.min(pause, Math.max(0, deadline - now())));
  }
}
