/**
 * Verifications on SQLite (see src/store/verifications.ts). Both functions run inside the
 * caller's group transaction (its own savepoint): SQLite has one writer at a time, so a Check's read,
 * claim and update cannot interleave with another Check's. The claim is still the
 * conditional update PostgreSQL needs, so the two engines run the same steps.
 */
import type Database from "better-sqlite3";
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
import { mustLoadCall } from "./plan-io.js";
import { type DetailColumns, type EventRow, toEventRecord } from "./rows.js";
import type { Statements } from "./statements.js";
import type { Keyring } from "../../secrets/keyring.js";

interface Row {
  call_id: string;
  code_hash: string;
  expires_at_ms: number;
  attempts_left: number;
  state: VerificationRowState;
  superseded: number;
}

const COLUMNS = "call_id, code_hash, expires_at_ms, attempts_left, state, superseded";

export function prepareVerificationStatements(db: Database.Database) {
  return {
    // A new verification for the same tenant and reference makes the older codes useless:
    // their hashes go too (nothing left to compare, nothing kept without a use).
    supersede: db.prepare<[string, string]>(
      `UPDATE verifications SET superseded = 1, code_hash = ''
       WHERE tenant = ? AND client_reference = ? AND client_reference <> '' AND superseded = 0`,
    ),
    insert: db.prepare<[string, string, string, string, number, number, number]>(
      `INSERT INTO verifications (call_id, tenant, client_reference, code_hash, expires_at_ms,
         attempts_left, state, superseded, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)`,
    ),
    byCall: db.prepare<[string, string], Row>(
      `SELECT ${COLUMNS} FROM verifications WHERE call_id = ? AND tenant = ?`,
    ),
    // At most one is not superseded (createCall supersedes in its transaction).
    latest: db.prepare<[string, string], Row>(
      `SELECT ${COLUMNS} FROM verifications WHERE tenant = ? AND client_reference = ?
       ORDER BY superseded, created_at_ms DESC, call_id DESC LIMIT 1`,
    ),
    claim: db.prepare<[string], { attempts_left: number; code_hash: string }>(
      `UPDATE verifications SET attempts_left = attempts_left - 1
       WHERE call_id = ? AND state = 'pending' AND superseded = 0 AND attempts_left > 0
       RETURNING attempts_left, code_hash`,
    ),
    settle: db.prepare<{ state: VerificationRowState; call_id: string }>(
      // Approved or locked: the hash has no further use.
      `UPDATE verifications SET state = @state,
         code_hash = CASE WHEN @state = 'pending' THEN code_hash ELSE '' END
       WHERE call_id = @call_id`,
    ),
    expire: db.prepare<[string]>(
      `UPDATE verifications SET state = 'expired', code_hash = '' WHERE call_id = ? AND state = 'pending'`,
    ),
    // The detail columns (key press, durations) stay NULL on a verification event.
    insertEvent: db.prepare<Omit<EventRow, "sequence" | keyof DetailColumns>, EventRow>(
      `INSERT INTO events (call_id, tenant, client_reference, state, failure_reason, provider,
         provider_call_id, provider_code, provider_text, occurred_at_ms, recorded_at_ms,
         provisional, attempt, continues, verification)
       VALUES (@call_id, @tenant, @client_reference, @state, @failure_reason, @provider,
         @provider_call_id, @provider_code, @provider_text, @occurred_at_ms, @recorded_at_ms,
         @provisional, @attempt, @continues, @verification)
       RETURNING *`,
    ),
  };
}

export type VerificationStatements = ReturnType<typeof prepareVerificationStatements>;

/** Runs in createCall's transaction, right after the call row was inserted. */
export function insertVerification(
  vs: VerificationStatements,
  call: CallRecord,
  verification: NewVerification,
): void {
  vs.supersede.run(call.tenant, call.clientReference);
  vs.insert.run(
    call.callId,
    call.tenant,
    call.clientReference,
    verification.codeHash,
    verification.expiresAtMs,
    verification.attempts,
    call.createdAtMs,
  );
}

function toRow(row: Row): VerificationRow {
  return {
    callId: row.call_id,
    codeHash: row.code_hash,
    expiresAtMs: row.expires_at_ms,
    attemptsLeft: row.attempts_left,
    state: row.state,
    superseded: row.superseded === 1,
  };
}

/**
 * The verification event: the call's own state repeated (a Check never moves a call,
 * so the forward-only rule and the call row are untouched), not provisional.
 */
function appendVerificationEvent(
  st: Statements,
  vs: VerificationStatements,
  callId: string,
  verification: VerificationState,
  nowMs: number,
): EventRecord {
  const { call } = mustLoadCall(st, callId);
  const row = vs.insertEvent.get({
    call_id: call.callId,
    tenant: call.tenant,
    client_reference: call.clientReference,
    state: call.state,
    failure_reason: call.failureReason,
    provider: call.provider,
    provider_call_id: call.providerCallId,
    provider_code: "",
    provider_text: VERIFICATION_EVENT_TEXT[verification],
    occurred_at_ms: null,
    recorded_at_ms: nowMs,
    provisional: 0,
    // The call's current attempt; a verification event never continues anything.
    attempt: call.attempt,
    continues: 0,
    verification,
  });
  if (row === undefined) throw new Error("sqlite store: verification event insert returned no row");
  return toEventRecord(row);
}

export function checkVerification(
  st: Statements,
  vs: VerificationStatements,
  keyring: Keyring,
  request: CheckVerificationRequest,
): CheckVerificationResult {
  const { target, nowMs } = request;
  const found =
    "callId" in target
      ? vs.byCall.get(target.callId, target.tenant)
      : vs.latest.get(target.tenant, target.clientReference);
  if (found === undefined) return notFound();
  const row = toRow(found);
  const decision = precheck(row, nowMs);
  const answer = (result: CheckResult, attemptsLeft: number, event?: EventRecord): CheckVerificationResult => ({
    result,
    attemptsLeft,
    callId: row.callId,
    event,
  });
  if (decision === "expire") {
    vs.expire.run(row.callId);
    return answer(CheckResult.EXPIRED, 0, appendVerificationEvent(st, vs, row.callId, VerificationState.EXPIRED, nowMs));
  }
  if (decision !== "compare") return answer(decision, 0);
  const claimed = vs.claim.get(row.callId);
  // Unreachable with one writer at a time; answered like PostgreSQL would be.
  if (claimed === undefined) return answer(CheckResult.TOO_MANY_ATTEMPTS, 0);
  const next = afterCompare(keyring, request, {
    callId: row.callId,
    codeHash: claimed.code_hash,
    attemptsLeft: claimed.attempts_left,
  });
  vs.settle.run({ state: next.state, call_id: row.callId });
  const event = appendVerificationEvent(st, vs, row.callId, next.event, nowMs);
  const left = next.result === CheckResult.APPROVED ? 0 : claimed.attempts_left;
  return answer(next.result, left, event);
}
