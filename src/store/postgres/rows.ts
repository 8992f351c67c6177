/**
 * Row shapes as node-postgres returns them (BIGINT already numbers, see pool.ts) and
 * their mapping to the domain records; column names are the SQLite engine's.
 */
import {
  type CallDetails,
  type CallRecord,
  type CallState,
  type EventRecord,
  type FailureReason,
  type VerificationState,
  toCallKind,
} from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";

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
  metadata: unknown;
  state: number;
  failure_reason: number;
  reason_provisional: boolean;
  attempt: number;
  continues: boolean;
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
  provisional: boolean;
  attempt: number;
  continues: boolean;
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
  provisional: boolean;
  disposition: Disposition;
  call_id: string | null;
  applied_sequence: number | null;
  received_at_ms: number;
}

/** JSONB arrives parsed; keep only string values, as the SQLite engine does. */
function toMetadata(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return out;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") out[key] = entry;
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
    metadata: toMetadata(row.metadata),
    state: row.state as CallState,
    failureReason: row.failure_reason as FailureReason,
    reasonProvisional: row.reason_provisional,
    attempt: row.attempt,
    continues: row.continues,
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
    provisional: row.provisional,
    attempt: row.attempt,
    continues: row.continues,
    verification: row.verification as VerificationState,
    ...detailsOf(row),
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

/** CallDetails as the detail columns, absent fields null; text made storable. */
export function detailColumns(details: CallDetails | undefined): DetailColumns {
  return {
    pressed_key: details?.pressedKey === undefined ? null : storable(details.pressedKey),
    duration_seconds: details?.durationSeconds ?? null,
    answered_at_ms: details?.answeredAtMs ?? null,
    ended_at_ms: details?.endedAtMs ?? null,
  };
}


/** A parked push, rebuilt so it goes through the same apply path as a fresh one. */
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
    provisional: row.provisional,
    details: detailsOf(row),
  };
}

/**
 * PostgreSQL text cannot hold U+0000 (SQLite can), and a query that merely mentions one
 * fails. Provider data may carry it: failing would make the provider retry that push
 * forever, so it is stored with U+FFFD instead, the same way every time, so that retries
 * still dedupe.
 */
export function storable(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

/** A push with every text field storable. */
export function storablePush(push: InboundEvent): InboundEvent {
  return {
    ...push,
    dedupeKey: storable(push.dedupeKey),
    providerCallId: storable(push.providerCallId),
    callId: push.callId === undefined ? undefined : storable(push.callId),
    providerCode: storable(push.providerCode),
    providerText: storable(push.providerText),
  };
}
