/**
 * Call deadlines, resumable calls and retention on SQLite. Each function runs inside
 * the caller's IMMEDIATE transaction, so nothing interleaves with an ingest: a call the
 * expiry selects is still not terminal when its event is appended. The state literals
 * 6 and 7 (COMPLETED, FAILED) repeat the partial indexes' predicates of migration 3
 * verbatim, which is what lets SQLite use those indexes.
 */
import type Database from "better-sqlite3";
import type { CallRecord, EventRecord } from "../../core/model.js";
import { expiryFields } from "../expiry.js";
import type { ExpireRequest, PruneRequest, PruneResult } from "../store.js";
import { planExpiry } from "../plan/ingest-plan.js";
import { executeWrites, mustLoadCall } from "./plan-io.js";
import { type CallRow, toCallRecord } from "./rows.js";
import { CALL_COLUMNS, type Statements } from "./statements.js";


export function prepareLifecycleStatements(db: Database.Database) {
  return {
    expiredCallIds: db.prepare<[number, number], { call_id: string }>(
      `SELECT call_id FROM calls WHERE state NOT IN (6, 7) AND created_at_ms < ?
       ORDER BY created_at_ms LIMIT ?`,
    ),
    openCalls: db.prepare<[string, string, number], CallRow>(
      `SELECT ${CALL_COLUMNS} FROM calls
       WHERE state NOT IN (6, 7) AND provider = ? AND call_id > ? ORDER BY call_id LIMIT ?`,
    ),
    closedCallIds: db.prepare<[number, number], { call_id: string }>(
      `SELECT call_id FROM calls WHERE state IN (6, 7) AND updated_at_ms < ?
       ORDER BY updated_at_ms LIMIT ?`,
    ),
    // Children first: inbound references events and calls, events reference calls.
    deletePushesOf: db.prepare<[string]>("DELETE FROM inbound WHERE call_id = ?"),
    deleteVerificationOf: db.prepare<[string]>("DELETE FROM verifications WHERE call_id = ?"),
    deleteEventsOf: db.prepare<[string]>("DELETE FROM events WHERE call_id = ?"),
    deleteAttemptsOf: db.prepare<[string]>("DELETE FROM attempts WHERE call_id = ?"),
    deleteFallbackOf: db.prepare<[string]>("DELETE FROM fallbacks WHERE call_id = ?"),
    deleteCall: db.prepare<[string]>("DELETE FROM calls WHERE call_id = ?"),
    deleteParked: db.prepare<[number, number]>(
      `DELETE FROM inbound WHERE received_seq IN (
         SELECT received_seq FROM inbound
         WHERE disposition = 'parked' AND received_at_ms < ?
         ORDER BY received_at_ms LIMIT ?)`,
    ),
  };
}

export type LifecycleStatements = ReturnType<typeof prepareLifecycleStatements>;

export function expireCalls(
  st: Statements,
  ls: LifecycleStatements,
  request: ExpireRequest,
): EventRecord[] {
  const limit = Math.max(0, Math.floor(request.limit));
  if (limit === 0) return [];
  const fields = expiryFields(request.providerText);
  const calls = ls.expiredCallIds.all(request.createdBeforeMs, limit).map((row) => mustLoadCall(st, row.call_id));
  return executeWrites(st, planExpiry(calls, fields, request.nowMs), request.nowMs);
}

export function listOpenCalls(
  ls: LifecycleStatements,
  provider: string,
  afterCallId: string,
  limit: number,
): CallRecord[] {
  if (limit <= 0) return [];
  return ls.openCalls.all(provider, afterCallId, Math.floor(limit)).map(toCallRecord);
}

export function prune(ls: LifecycleStatements, request: PruneRequest): PruneResult {
  const limit = Math.max(0, Math.floor(request.limit));
  const result = { calls: 0, events: 0, pushes: 0, parked: 0, busy: false };
  if (limit === 0) return result;
  for (const { call_id } of ls.closedCallIds.all(request.callsBeforeMs, limit)) {
    result.pushes += ls.deletePushesOf.run(call_id).changes;
    ls.deleteVerificationOf.run(call_id);
    result.events += ls.deleteEventsOf.run(call_id).changes;
    ls.deleteAttemptsOf.run(call_id);
    ls.deleteFallbackOf.run(call_id);
    result.calls += ls.deleteCall.run(call_id).changes;
  }
  result.parked = ls.deleteParked.run(request.parkedBeforeMs, limit).changes;
  return result;
}
