/**
 * Call deadlines, resumable calls and retention on PostgreSQL, as in the SQLite engine
 * (src/store/sqlite/lifecycle.ts). New queries only: the expiry appends its events
 * through the shared planner inside an event-appending transaction, so it follows
 * whatever rule orders event writes. The state literals 6 and 7 (COMPLETED, FAILED)
 * repeat the partial indexes' predicates of migration 2.
 */
import type pg from "pg";
import type { CallRecord, EventRecord } from "../../core/model.js";
import { expiryFields } from "../expiry.js";
import type { ExpireRequest, PruneRequest, PruneResult } from "../store.js";
import { planExpiry } from "../plan/ingest-plan.js";
import { executeWrites } from "./plan-io.js";
import { LOCK_NAMESPACE, RETENTION_LOCK } from "./constants.js";
import { CALL_COLUMNS, type Db } from "./queries.js";
import { type CallRow, toCallRecord } from "./rows.js";
import { type TransactionOptions, inTransaction } from "./transaction.js";


/** A cheap read first, so a sweep with nothing to do opens no event-writing transaction. */
async function anyExpired(pool: pg.Pool, createdBeforeMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    "SELECT 1 FROM calls WHERE state NOT IN (6, 7) AND created_at_ms < $1 LIMIT 1",
    [createdBeforeMs],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * The claim: a conditional update that re-checks "not terminal" on the row it locks.
 * Under READ COMMITTED a replica that loses the race to another replica's expiry, or
 * to an ingest that made the call terminal, re-evaluates the condition after that
 * commit and skips the row; SKIP LOCKED passes over calls another transaction is
 * changing right now (the next sweep sees them again if they are still open).
 */
async function claimExpired(db: Db, request: ExpireRequest, limit: number): Promise<CallRow[]> {
  const { rows } = await db.query<CallRow>(
    `UPDATE calls SET updated_at_ms = $3
     WHERE call_id IN (
       SELECT call_id FROM calls WHERE state NOT IN (6, 7) AND created_at_ms < $1
       ORDER BY created_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED)
     AND state NOT IN (6, 7)
     RETURNING ${CALL_COLUMNS}`,
    [request.createdBeforeMs, limit, request.nowMs],
  );
  return rows.sort((a, b) => (a.call_id < b.call_id ? -1 : a.call_id > b.call_id ? 1 : 0));
}

export async function expireCalls(
  pool: pg.Pool,
  hooks: TransactionOptions,
  request: ExpireRequest,
): Promise<EventRecord[]> {
  const limit = Math.max(0, Math.floor(request.limit));
  if (limit === 0 || !(await anyExpired(pool, request.createdBeforeMs))) return [];
  const fields = expiryFields(request.providerText);
  const spec = { method: "expireCalls", appended: (events: readonly EventRecord[]) => events };
  return inTransaction(pool, hooks, spec, async (db) => {
    // The claim locked the rows; appending needs neither route nor attempts.
    const calls = (await claimExpired(db, request, limit)).map((row) => ({
      call: toCallRecord(row),
      route: undefined,
      attempts: [],
    }));
    return executeWrites(db, planExpiry(calls, fields, request.nowMs), request.nowMs);
  });
}

export async function listOpenCalls(
  pool: pg.Pool,
  provider: string,
  afterCallId: string,
  limit: number,
): Promise<CallRecord[]> {
  if (limit <= 0) return [];
  const { rows } = await pool.query<CallRow>(
    `SELECT ${CALL_COLUMNS} FROM calls
     WHERE state NOT IN (6, 7) AND provider = $1 AND call_id > $2
     ORDER BY call_id LIMIT $3`,
    [provider, afterCallId, Math.floor(limit)],
  );
  return rows.map(toCallRecord);
}

async function deleteCalls(db: Db, request: PruneRequest, limit: number) {
  const { rows } = await db.query<{ call_id: string }>(
    `SELECT call_id FROM calls WHERE state IN (6, 7) AND updated_at_ms < $1
     ORDER BY updated_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [request.callsBeforeMs, limit],
  );
  const ids = rows.map((r) => r.call_id);
  if (ids.length === 0) return { calls: 0, events: 0, pushes: 0 };
  // Children first: inbound references events and calls, events reference calls.
  const pushes = await db.query("DELETE FROM inbound WHERE call_id = ANY($1)", [ids]);
  await db.query("DELETE FROM verifications WHERE call_id = ANY($1)", [ids]);
  const events = await db.query("DELETE FROM events WHERE call_id = ANY($1)", [ids]);
  await db.query("DELETE FROM attempts WHERE call_id = ANY($1)", [ids]);
  await db.query("DELETE FROM fallbacks WHERE call_id = ANY($1)", [ids]);
  const calls = await db.query("DELETE FROM calls WHERE call_id = ANY($1)", [ids]);
  return { calls: calls.rowCount ?? 0, events: events.rowCount ?? 0, pushes: pushes.rowCount ?? 0 };
}

/**
 * One batch, in one transaction that only tries the retention lock: a replica that finds
 * it taken reports `busy` and leaves this round to the one holding it, so replicas never
 * queue on each other or delete the same rows twice.
 */
export async function prune(
  pool: pg.Pool,
  hooks: TransactionOptions,
  request: PruneRequest,
): Promise<PruneResult> {
  const limit = Math.max(0, Math.floor(request.limit));
  const none = { calls: 0, events: 0, pushes: 0, parked: 0, busy: false };
  if (limit === 0) return none;
  return inTransaction(pool, hooks, { method: "prune" }, async (db) => {
    const { rows } = await db.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_xact_lock($1, $2) AS locked",
      [LOCK_NAMESPACE, RETENTION_LOCK],
    );
    if (rows[0]?.locked !== true) return { ...none, busy: true };
    const deleted = await deleteCalls(db, request, limit);
    const parked = await db.query(
      `DELETE FROM inbound WHERE received_seq IN (
         SELECT received_seq FROM inbound
         WHERE disposition = 'parked' AND received_at_ms < $1
         ORDER BY received_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [request.parkedBeforeMs, limit],
    );
    return { ...deleted, parked: parked.rowCount ?? 0, busy: false };
  });
}
