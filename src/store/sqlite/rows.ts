/**
 * Row shapes as SQLite returns them, and their mapping to the domain records. Column
 * names are the ones the PostgreSQL engine will share.
 */
import {
  type CallDetails,
  type CallRecord,
  type CallState,
  type EventRecord,
  type FailureReason,
  VerificationState,
  toCallKind,
} from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import type { EventWrite } from "../plan/writes.js";

export interface CallRow {
  call_id: string;
  /** "verification", "notification" or "ivr" (core/model CallKind). */
  kind: string;
  template_name: string;
  tenant: string;
  provider: string;
  provider_call_id: string;
  phone_masked: string;
  play_times: number;
  client_reference: string;
  idempotency_key: string;
  request_hash: string;
  metadata: string;
  state: number;
  failure_reason: number;
  /** 0 or 1: the failure reason may still be refined (see core/states changesCall). */
  reason_provisional: number;
  attempt: number;
  continues: number;
  created_at_ms: number;
  updated_at_ms: number;
}


/** Columns of what a provider reports beyond the state; null when it does not say. */
export interface DetailColumns {
  pressed_key: string | null;
  duration_seconds: number | null;
  answered_at_ms: number | null;
  ended_at_ms: number | null;
}

export interface EventRow extends DetailColumns {
  sequence: number;
  call_id: string;
  tenant: string;
  client_reference: string;
  state: number;
  failure_reason: number;
  provider: string;
  provider_call_id: string;
  provider_code: string;
  provider_text: string;
  occurred_at_ms: number | null;
  recorded_at_ms: number;
  provisional: number;
  attempt: number;
  continues: number;
  /** VerificationState; 0 on lifecycle events (src/store/verifications.ts). */
  verification: number;
}

export type Disposition = "applied" | "stale" | "parked";

export interface InboundRow extends DetailColumns {
  received_seq: number;
  provider: string;
  dedupe_key: string;
  provider_call_id: string;
  call_id_hint: string | null;
  state: number;
  failure_reason: number;
  provider_code: string;
  provider_text: string;
  occurred_at_ms: number | null;
  provisional: number;
  disposition: Disposition;
  call_id: string | null;
  applied_sequence: number | null;
  received_at_ms: number;
}

function parseMetadata(text: string): Record<string, string> {
  const parsed: unknown = JSON.parse(text);
  const out: Record<string, string> = {};
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return out;
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

export function toCallRecord(row: CallRow): CallRecord {
  return {
    callId: row.call_id,
    kind: toCallKind(row.kind),
    templateName: row.template_name,
    tenant: row.tenant,
    provider: row.provider,
    providerCallId: row.provider_call_id,
    phoneMasked: row.phone_masked,
    playTimes: row.play_times,
    clientReference: row.client_reference,
    metadata: parseMetadata(row.metadata),
    state: row.state as CallState,
    failureReason: row.failure_reason as FailureReason,
    reasonProvisional: row.reason_provisional === 1,
    attempt: row.attempt,
    continues: row.continues === 1,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export function toEventRecord(row: EventRow): EventRecord {
  return {
    sequence: row.sequence,
    callId: row.call_id,
    tenant: row.tenant,
    clientReference: row.client_reference,
    state: row.state as CallState,
    failureReason: row.failure_reason as FailureReason,
    provider: row.provider,
    providerCallId: row.provider_call_id,
    providerCode: row.provider_code,
    providerText: row.provider_text,
    occurredAtMs: row.occurred_at_ms ?? undefined,
    recordedAtMs: row.recorded_at_ms,
    provisional: row.provisional === 1,
    attempt: row.attempt,
    continues: row.continues === 1,
    verification: row.verification as VerificationState,
    ...detailsOf(row),
  };
}

/**
 * The record of an event row just inserted from `write`, as toEventRecord would read it
 * back: reading the row again (RETURNING *) cost more than the insert itself.
 */
export function insertedEventRecord(write: EventWrite, sequence: number): EventRecord {
  return {
    sequence,
    callId: write.callId,
    tenant: write.tenant,
    clientReference: write.clientReference,
    state: write.state,
    failureReason: write.failureReason,
    provider: write.provider,
    providerCallId: write.providerCallId,
    providerCode: write.providerCode,
    providerText: write.providerText,
    occurredAtMs: write.occurredAtMs,
    recordedAtMs: write.recordedAtMs,
    provisional: write.provisional,
    attempt: write.attempt,
    continues: write.continues,
    verification: VerificationState.UNSPECIFIED,
    ...detailsOf(detailColumns(write.details)),
  };
}

/** The detail columns as CallDetails, absent fields left out. */
export function detailsOf(row: DetailColumns): CallDetails {
  const details: { -readonly [K in keyof CallDetails]: CallDetails[K] } = {};
  if (row.pressed_key !== null) details.pressedKey = row.pressed_key;
  if (row.duration_seconds !== null) details.durationSeconds = row.duration_seconds;
  if (row.answered_at_ms !== null) details.answeredAtMs = row.answered_at_ms;
  if (row.ended_at_ms !== null) details.endedAtMs = row.ended_at_ms;
  return details;
}

/** CallDetails as the detail columns, absent fields null. */
export function detailColumns(details: CallDetails | undefined): DetailColumns {
  return {
    pressed_key: details?.pressedKey ?? null,
    duration_seconds: details?.durationSeconds ?? null,
    answered_at_ms: details?.answeredAtMs ?? null,
    ended_at_ms: details?.endedAtMs ?? null,
  };
}


/** A parked push, rebuilt so it can go through the same apply path as a fresh one. */
export function toInboundEvent(row: InboundRow): InboundEvent {
  return {
    dedupeKey: row.dedupe_key,
    providerCallId: row.provider_call_id,
    callId: row.call_id_hint ?? undefined,
    state: row.state as CallState,
    failureReason: row.failure_reason as FailureReason,
    providerCode: row.provider_code,
    providerText: row.provider_text,
    occurredAtMs: row.occurred_at_ms ?? undefined,
    provisional: row.provisional === 1,
    details: detailsOf(row),
  };
}
