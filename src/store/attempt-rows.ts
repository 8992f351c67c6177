/**
 * The `attempts` table's row, the same on both engines (no boolean or JSON column), and
 * its mapping to the domain record.
 */
import type { AttemptRecord, FailureReason } from "../core/model.js";

export interface AttemptRow {
  call_id: string;
  attempt: number;
  provider: string;
  provider_call_id: string;
  outcome: AttemptRecord["outcome"];
  failure_reason: number;
  provider_code: string;
  provider_text: string;
  started_at_ms: number;
  ended_at_ms: number | null;
}

export function toAttemptRecord(row: AttemptRow): AttemptRecord {
  return {
    callId: row.call_id,
    attempt: row.attempt,
    provider: row.provider,
    providerCallId: row.provider_call_id,
    outcome: row.outcome,
    failureReason: row.failure_reason as FailureReason,
    providerCode: row.provider_code,
    providerText: row.provider_text,
    startedAtMs: row.started_at_ms,
    endedAtMs: row.ended_at_ms ?? undefined,
  };
}
