/**
 * A plan's writes (src/store/plan/writes.ts) in one statement, one round trip: every
 * table's rows go as parallel arrays (unnest), one data-modifying CTE per kind of write.
 * A Send's answer, a callback or a Kingsoft batch thus writes in one statement where it
 * took one per event, call, attempt and fallback.
 *
 * The CTEs run on one snapshot and cannot see each other's rows, so the statement
 * serves only plans whose writes never touch one row twice: each call moved once (the
 * planner's promise), and no attempt both started, answered or given a provider id in the
 * same plan. Any other plan goes statement by statement (plan-io.ts). Events are inserted
 * in plan order, so their sequences are drawn in that order; an inbound row's applied
 * sequence is looked up by the event's rank among them.
 */
import type { Writes } from "../plan/writes.js";
import type { AttemptRow } from "../attempt-rows.js";
import { EVENT_COLUMNS, type Db } from "./queries.js";
import { detailColumns, type EventRow } from "./rows.js";

const WRITE_PLAN_SQL = `
WITH ev AS (
  INSERT INTO events (call_id, client_reference, state, failure_reason, provider, provider_call_id,
    provider_code, provider_text, occurred_at_ms, recorded_at_ms, provisional, tenant, attempt,
    continues, pressed_key, duration_seconds, answered_at_ms, ended_at_ms)
  SELECT call_id, client_reference, state, failure_reason, provider, provider_call_id,
    provider_code, provider_text, occurred_at_ms, recorded_at_ms, provisional, tenant, attempt,
    continues, pressed_key, duration_seconds, answered_at_ms, ended_at_ms
  FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::bigint[], $10::bigint[], $11::boolean[], $12::text[], $13::int[], $14::boolean[],
    $15::text[], $16::int[], $17::bigint[], $18::bigint[])
    WITH ORDINALITY AS u(call_id, client_reference, state, failure_reason, provider, provider_call_id,
      provider_code, provider_text, occurred_at_ms, recorded_at_ms, provisional, tenant, attempt,
      continues, pressed_key, duration_seconds, answered_at_ms, ended_at_ms, i)
  ORDER BY i
  RETURNING ${EVENT_COLUMNS}
),
ranked AS (SELECT sequence, (row_number() OVER (ORDER BY sequence))::int - 1 AS idx FROM ev),
moved AS (
  UPDATE calls SET state = u.state, failure_reason = u.failure_reason,
    reason_provisional = u.reason_provisional, continues = u.continues,
    provider_call_id = u.provider_call_id, attempt = u.attempt, provider = u.provider,
    updated_at_ms = u.updated_at_ms,
    sealed_request = CASE WHEN u.state IN (6, 7) AND NOT u.continues THEN NULL ELSE calls.sealed_request END
  FROM unnest($19::text[], $20::int[], $21::int[], $22::boolean[], $23::boolean[], $24::text[],
    $25::int[], $26::text[], $27::bigint[])
    AS u(call_id, state, failure_reason, reason_provisional, continues, provider_call_id, attempt,
      provider, updated_at_ms)
  WHERE calls.call_id = u.call_id
),
started AS (
  INSERT INTO attempts (call_id, attempt, provider, started_at_ms)
  SELECT call_id, attempt, provider, started_at_ms
  FROM unnest($28::text[], $29::int[], $30::text[], $49::bigint[])
    AS u(call_id, attempt, provider, started_at_ms)
),
answered AS (
  UPDATE attempts SET outcome = u.outcome,
    provider_call_id = CASE WHEN u.provider_call_id <> '' THEN u.provider_call_id ELSE attempts.provider_call_id END,
    failure_reason = u.failure_reason, provider_code = u.provider_code,
    provider_text = u.provider_text, ended_at_ms = u.ended_at_ms
  FROM unnest($31::text[], $32::int[], $33::text[], $34::text[], $35::int[], $36::text[],
    $37::text[], $38::bigint[])
    AS u(call_id, attempt, outcome, provider_call_id, failure_reason, provider_code, provider_text, ended_at_ms)
  WHERE attempts.call_id = u.call_id AND attempts.attempt = u.attempt
),
revealed AS (
  UPDATE attempts SET provider_call_id = u.provider_call_id
  FROM unnest($39::text[], $40::int[], $41::text[]) AS u(call_id, attempt, provider_call_id)
  WHERE attempts.call_id = u.call_id AND attempts.attempt = u.attempt AND attempts.provider_call_id = ''
),
decided AS (
  INSERT INTO fallbacks (call_id, attempt, decided_at_ms)
  SELECT call_id, attempt, decided_at_ms FROM unnest($42::text[], $43::int[], $50::bigint[])
    AS u(call_id, attempt, decided_at_ms)
  ON CONFLICT (call_id) DO NOTHING
),
settled AS (
  UPDATE inbound SET disposition = u.disposition, call_id = u.call_id, applied_sequence = r.sequence
  FROM unnest($44::text[], $45::text[], $46::text[], $47::text[], $48::int[])
    AS u(provider, dedupe_key, disposition, call_id, event_index)
    LEFT JOIN ranked r ON r.idx = u.event_index
  WHERE inbound.provider = u.provider AND inbound.dedupe_key = u.dedupe_key
)
SELECT * FROM ev ORDER BY sequence`;

/** Whether one statement can carry the plan: no row written twice (see above). */
export function fitsOneStatement(writes: Writes): boolean {
  const calls = new Set(writes.calls.map((c) => c.callId));
  if (calls.size !== writes.calls.length) return false;
  const attempts = new Set<string>();
  const lists = [writes.newAttempts, writes.attemptAnswers, writes.attemptProviderCallIds];
  for (const list of lists) {
    for (const a of list) {
      const key = `${a.callId}\u0000${a.attempt}`;
      if (attempts.has(key)) return false;
      attempts.add(key);
    }
  }
  return true;
}

/** A plan's writes with the time its new attempts and fallbacks carry. */
export interface TimedWrites {
  readonly writes: Writes;
  readonly nowMs: number;
}

/**
 * Several plans' writes as one: each inbound row's event index shifted past the events of
 * the plans before it. The merged plan fits one statement only if no two plans touch one
 * row (fitsOneStatement on the result says).
 */
export function mergeWrites(plans: readonly Writes[]): Writes {
  if (plans.length === 1 && plans[0] !== undefined) return plans[0];
  let offset = 0;
  const inbound = plans.flatMap((p) => {
    const shifted = p.inbound.map((w) => ({ ...w, eventIndex: w.eventIndex === undefined ? undefined : w.eventIndex + offset }));
    offset += p.events.length;
    return shifted;
  });
  return {
    events: plans.flatMap((p) => p.events),
    calls: plans.flatMap((p) => p.calls),
    newAttempts: plans.flatMap((p) => p.newAttempts),
    attemptAnswers: plans.flatMap((p) => p.attemptAnswers),
    attemptProviderCallIds: plans.flatMap((p) => p.attemptProviderCallIds),
    fallbacks: plans.flatMap((p) => p.fallbacks),
    inbound,
  };
}

/**
 * Runs the writes of one or more plans in one statement (fitsOneStatement must hold for
 * `merged`, their mergeWrites); returns the events in sequence order. Each plan's new
 * attempts and fallbacks carry its own time, so Sends answered at different milliseconds
 * still share the statement.
 *
 * A named statement: its text is constant (every list is an array parameter), so each
 * pooled connection parses it once and PostgreSQL keeps its plan, instead of parsing and
 * planning this nine-CTE statement on every write.
 */
export async function writePlans(db: Db, parts: readonly TimedWrites[], merged: Writes): Promise<EventRow[]> {
  const writes = merged;
  const ev = writes.events.map((e) => ({ e, d: detailColumns(e.details) }));
  const answers = writes.attemptAnswers;
  const inbound = writes.inbound.filter((w) => !(w.received && w.disposition === "parked"));
  const startedAt = parts.flatMap((p) => p.writes.newAttempts.map(() => p.nowMs));
  const decidedAt = parts.flatMap((p) => p.writes.fallbacks.map(() => p.nowMs));
  const { rows } = await db.query<EventRow>({
    ...WRITE_PLAN,
    values: [
      ev.map(({ e }) => e.callId),
      ev.map(({ e }) => e.clientReference),
      ev.map(({ e }) => e.state),
      ev.map(({ e }) => e.failureReason),
      ev.map(({ e }) => e.provider),
      ev.map(({ e }) => e.providerCallId),
      ev.map(({ e }) => e.providerCode),
      ev.map(({ e }) => e.providerText),
      ev.map(({ e }) => e.occurredAtMs ?? null),
      ev.map(({ e }) => e.recordedAtMs),
      ev.map(({ e }) => e.provisional),
      ev.map(({ e }) => e.tenant),
      ev.map(({ e }) => e.attempt),
      ev.map(({ e }) => e.continues),
      ev.map(({ d }) => d.pressed_key),
      ev.map(({ d }) => d.duration_seconds),
      ev.map(({ d }) => d.answered_at_ms),
      ev.map(({ d }) => d.ended_at_ms),
      writes.calls.map((c) => c.callId),
      writes.calls.map((c) => c.state),
      writes.calls.map((c) => c.failureReason),
      writes.calls.map((c) => c.reasonProvisional),
      writes.calls.map((c) => c.continues),
      writes.calls.map((c) => c.providerCallId),
      writes.calls.map((c) => c.attempt),
      writes.calls.map((c) => c.provider),
      writes.calls.map((c) => c.updatedAtMs),
      writes.newAttempts.map((a) => a.callId),
      writes.newAttempts.map((a) => a.attempt),
      writes.newAttempts.map((a) => a.provider),
      answers.map((a) => a.callId),
      answers.map((a) => a.attempt),
      answers.map((a) => a.outcome),
      answers.map((a) => a.providerCallId),
      answers.map((a) => a.failureReason),
      answers.map((a) => a.providerCode),
      answers.map((a) => a.providerText),
      answers.map((a) => a.endedAtMs),
      writes.attemptProviderCallIds.map((a) => a.callId),
      writes.attemptProviderCallIds.map((a) => a.attempt),
      writes.attemptProviderCallIds.map((a) => a.providerCallId),
      writes.fallbacks.map((f) => f.callId),
      writes.fallbacks.map((f) => f.attempt),
      inbound.map((w) => w.provider),
      inbound.map((w) => w.push.dedupeKey),
      inbound.map((w) => w.disposition),
      inbound.map((w) => w.callId),
      inbound.map((w) => w.eventIndex ?? null),
      startedAt,
      decidedAt,
    ],
  });
  return rows;
}

/**
 * One call's attempt rows as the statement above leaves them: `rows` (the call's rows
 * before it, read in the same transaction under the call's row lock) with the plan's
 * started, answered and revealed attempts applied as those CTEs apply them. Lets a Send
 * answer its attempts without reading back rows this transaction just wrote.
 */
export function attemptsAfter(rows: readonly AttemptRow[], writes: Writes, nowMs: number, callId: string): AttemptRow[] {
  const byNumber = new Map<number, AttemptRow>(rows.filter((r) => r.call_id === callId).map((r) => [r.attempt, { ...r }]));
  for (const a of writes.newAttempts) {
    if (a.callId !== callId) continue;
    byNumber.set(a.attempt, {
      call_id: a.callId,
      attempt: a.attempt,
      provider: a.provider,
      // The column defaults (migration 6).
      provider_call_id: "",
      outcome: "pending",
      failure_reason: 0,
      provider_code: "",
      provider_text: "",
      started_at_ms: nowMs,
      ended_at_ms: null,
    });
  }
  for (const a of writes.attemptAnswers) {
    const row = a.callId === callId ? byNumber.get(a.attempt) : undefined;
    if (row === undefined) continue;
    row.outcome = a.outcome;
    if (a.providerCallId !== "") row.provider_call_id = a.providerCallId;
    row.failure_reason = a.failureReason;
    row.provider_code = a.providerCode;
    row.provider_text = a.providerText;
    row.ended_at_ms = a.endedAtMs;
  }
  for (const a of writes.attemptProviderCallIds) {
    const row = a.callId === callId ? byNumber.get(a.attempt) : undefined;
    if (row !== undefined && row.provider_call_id === "") row.provider_call_id = a.providerCallId;
  }
  return [...byNumber.values()].sort((x, y) => x.attempt - y.attempt);
}

export const WRITE_PLAN = { name: "voicecode_write_plan", text: WRITE_PLAN_SQL } as const;
