/**
 * Verifications on PostgreSQL (see src/store/verifications.ts), the same steps as the
 * SQLite engine. Writers run in parallel (no fleet-wide lock, transaction.ts). Across
 * replicas:
 * - a Check locks the verification row (FOR UPDATE) before deciding, and claims its
 *   attempt with a conditional UPDATE ... WHERE attempts_left > 0; under READ COMMITTED
 *   a concurrent Check waits for the row, then re-reads it, so the budget is never
 *   exceeded and a code is approved once;
 * - createCall takes an advisory lock per (tenant, client_reference) before superseding,
 *   so two concurrent re-sends leave exactly one verification that is not superseded.
 */
import { type CallRecord, type EventRecord, VerificationState } from "../../core/model.js";
import {
  type CheckVerificationRequest,
  type CheckVerificationResult,
  CheckResult,
  type NewVerification,
  VERIFICATION_EVENT_TEXT,
  type VerificationRow,
  type VerificationRowState,
  afterCompare,
  notFound,
  precheck,
} from "../verifications.js";
import { mustLockCall } from "./plan-io.js";
import { type Db, EVENT_COLUMNS } from "./queries.js";
import { type EventRow, toEventRecord } from "./rows.js";
import type { Keyring } from "../../secrets/keyring.js";

interface Row {
  call_id: string;
  code_hash: string;
  expires_at_ms: number;
  attempts_left: number;
  state: VerificationRowState;
  superseded: boolean;
}

const COLUMNS = "call_id, code_hash, expires_at_ms, attempts_left, state, superseded";

/** Runs in createCall's transaction, right after the call row was inserted. */
export async function insertVerification(db: Db, call: CallRecord, verification: NewVerification): Promise<void> {
  if (call.clientReference !== "") {
    // "v:" keeps it apart from the limit keys ("n:", "t:") in the same lock space.
    await db.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      `v:${call.tenant}\n${call.clientReference}`,
    ]);
    // Older codes of the same reference stop working; their hashes have no further use.
    await db.query(
      `UPDATE verifications SET superseded = true, code_hash = ''
       WHERE tenant = $1 AND client_reference = $2 AND superseded = false`,
      [call.tenant, call.clientReference],
    );
  }
  await db.query(
    `INSERT INTO verifications (call_id, tenant, client_reference, code_hash, expires_at_ms,
       attempts_left, state, superseded, created_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', false, $7)`,
    [
      call.callId,
      call.tenant,
      call.clientReference,
      verification.codeHash,
      verification.expiresAtMs,
      verification.attempts,
      call.createdAtMs,
    ],
  );
}

async function find(db: Db, request: CheckVerificationRequest): Promise<Row | undefined> {
  const { target } = request;
  if ("callId" in target) {
    const { rows } = await db.query<Row>(
      `SELECT ${COLUMNS} FROM verifications WHERE call_id = $1 AND tenant = $2 FOR UPDATE`,
      [target.callId, target.tenant],
    );
    return rows[0];
  }
  // At most one is not superseded (see insertVerification).
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM verifications WHERE tenant = $1 AND client_reference = $2
     ORDER BY superseded, created_at_ms DESC, call_id DESC LIMIT 1 FOR UPDATE`,
    [target.tenant, target.clientReference],
  );
  return rows[0];
}

function toRow(row: Row): VerificationRow {
  return {
    callId: row.call_id,
    codeHash: row.code_hash,
    expiresAtMs: row.expires_at_ms,
    attemptsLeft: row.attempts_left,
    state: row.state,
    superseded: row.superseded,
  };
}

/**
 * The call's own state repeated: a Check never moves a call. mustLockCall locks the call's
 * row before the event's sequence is drawn, as every writer of a call's events does
 * (plan-io.ts), so one call's events commit in sequence order.
 */
async function appendVerificationEvent(
  db: Db,
  callId: string,
  verification: VerificationState,
  nowMs: number,
): Promise<EventRecord> {
  const { call } = await mustLockCall(db, callId);
  const { rows } = await db.query<EventRow>(
    `INSERT INTO events (call_id, client_reference, state, failure_reason, provider,
       provider_call_id, provider_code, provider_text, occurred_at_ms, recorded_at_ms,
       provisional, tenant, verification, attempt, continues)
     VALUES ($1, $2, $3, $4, $5, $6, '', $7, NULL, $8, false, $9, $10, $11, false)
     RETURNING ${EVENT_COLUMNS}`,
    [
      call.callId,
      call.clientReference,
      call.state,
      call.failureReason,
      call.provider,
      call.providerCallId,
      VERIFICATION_EVENT_TEXT[verification],
      nowMs,
      call.tenant,
      verification,
      // The call's current attempt; a verification event never continues anything.
      call.attempt,
    ],
  );
  const row = rows[0];
  if (row === undefined) throw new Error("postgres store: verification event insert returned no row");
  return toEventRecord(row);
}

/**
 * Runs inside an event-appending transaction (see postgres-store.ts). Lock order: the
 * verification row, then the call row. Retention takes them the other way round, but only
 * for calls ended months ago; a deadlock there is retried by inTransaction.
 */
export async function checkVerification(
  db: Db,
  keyring: Keyring,
  request: CheckVerificationRequest,
): Promise<CheckVerificationResult> {
  const found = await find(db, request);
  if (found === undefined) return notFound();
  const row = toRow(found);
  const answer = (result: CheckResult, attemptsLeft: number, event?: EventRecord): CheckVerificationResult => ({
    result,
    attemptsLeft,
    callId: row.callId,
    event,
  });
  const decision = precheck(row, request.nowMs);
  if (decision === "expire") {
    await db.query("UPDATE verifications SET state = 'expired', code_hash = '' WHERE call_id = $1", [row.callId]);
    const event = await appendVerificationEvent(db, row.callId, VerificationState.EXPIRED, request.nowMs);
    return answer(CheckResult.EXPIRED, 0, event);
  }
  if (decision !== "compare") return answer(decision, 0);
  // The claim re-checks the budget on the row itself: correct even without the row lock.
  const { rows } = await db.query<{ attempts_left: number; code_hash: string }>(
    `UPDATE verifications SET attempts_left = attempts_left - 1
     WHERE call_id = $1 AND state = 'pending' AND superseded = false AND attempts_left > 0
     RETURNING attempts_left, code_hash`,
    [row.callId],
  );
  const claimed = rows[0];
  if (claimed === undefined) return answer(CheckResult.TOO_MANY_ATTEMPTS, 0);
  const next = afterCompare(keyring, request, {
    callId: row.callId,
    codeHash: claimed.code_hash,
    attemptsLeft: claimed.attempts_left,
  });
  // Approved or locked: the hash has no further use.
  await db.query(
    `UPDATE verifications SET state = $1, code_hash = CASE WHEN $1 = 'pending' THEN code_hash ELSE '' END
     WHERE call_id = $2`,
    [next.state, row.callId],
  );
  const event = await appendVerificationEvent(db, row.callId, next.event, request.nowMs);
  return answer(next.result, next.result === CheckResult.APPROVED ? 0 : claimed.attempts_left, event);
}
