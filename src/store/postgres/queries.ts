/** Every SQL statement the store runs, as typed functions over one connection. */
import type pg from "pg";
import { PROVIDER_CALL_LOCK_NAMESPACE } from "./constants.js";
import type { AttemptRow } from "../attempt-rows.js";
import type { CallRow, Disposition, EventRow, InboundRow } from "./rows.js";
import { EVENT_HORIZON_SQL } from "./visibility.js";

/** A pooled client inside a transaction, or the pool itself for single reads. */
export type Db = Pick<pg.ClientBase, "query">;

export interface InsertCallParams {
  readonly callId: string;
  readonly kind?: string | undefined;
  readonly templateName?: string | undefined;
  readonly tenant: string;
  readonly provider: string;
  readonly phoneMasked: string;
  readonly playTimes: number;
  readonly clientReference: string;
  readonly idempotencyKey: string;
  readonly requestHash: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly state: number;
  readonly route: unknown;
  readonly sealedRequest: string | null;
  readonly nowMs: number;
}

// verification: only Check writes it (src/store/postgres/verifications.ts); default 0.
export type InsertEventParams = Omit<EventRow, "sequence" | "verification">;

export type InsertInboundParams = Omit<
  InboundRow,
  "received_seq" | "disposition" | "call_id" | "applied_sequence"
>;

/** Every column a CallRow reads; the one list all queries of calls share. */
export const CALL_COLUMNS = `call_id, kind, template_name, tenant, provider, provider_call_id, phone_masked, play_times,
  client_reference, idempotency_key, request_hash, metadata, state, failure_reason,
  reason_provisional, attempt, continues, created_at_ms, updated_at_ms`;

/** The columns of EventRow: not `*`, which would add the visibility bookkeeping. */
export const EVENT_COLUMNS = `sequence, call_id, client_reference, state, failure_reason, provider,
  provider_call_id, provider_code, provider_text, occurred_at_ms, recorded_at_ms, provisional,
  tenant, attempt, continues, verification, pressed_key, duration_seconds, answered_at_ms, ended_at_ms`;

/**
 * Conflict target is the idempotency index only: a clashing call_id is a bug and must
 * throw. A concurrent insert of the same key waits for the other transaction, then
 * does nothing if it committed: no read-then-write window.
 */
export async function insertCall(db: Db, p: InsertCallParams): Promise<CallRow | undefined> {
  const { rows } = await db.query<CallRow>(
    `INSERT INTO calls (call_id, provider, phone_masked, play_times, client_reference,
       idempotency_key, request_hash, metadata, state, failure_reason, route, sealed_request,
       created_at_ms, updated_at_ms, tenant, kind, template_name)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, 0, $11::jsonb, $12, $10, $10, $13, $14, $15)
     ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key <> '' DO NOTHING
     RETURNING ${CALL_COLUMNS}`,
    [
      p.callId,
      p.provider,
      p.phoneMasked,
      p.playTimes,
      p.clientReference,
      p.idempotencyKey,
      p.requestHash,
      JSON.stringify(p.metadata),
      p.state,
      p.nowMs,
      p.route === undefined ? null : JSON.stringify(p.route),
      p.sealedRequest,
      p.tenant,
      p.kind ?? "verification",
      p.templateName ?? "",
    ],
  );
  return rows[0];
}

/** `name`: a named prepared statement, for the reads every watch repeats per event. */
async function oneCall(db: Db, where: string, values: unknown[], name?: string): Promise<CallRow | undefined> {
  const { rows } = await db.query<CallRow>({ text: `SELECT ${CALL_COLUMNS} FROM calls WHERE ${where}`, values, name });
  return rows[0];
}

/** Named: a watch of one call reads it on every event (streams/watch-events.ts). */
export function callById(db: Db, callId: string): Promise<CallRow | undefined> {
  return oneCall(db, "call_id = $1", [callId], "voicecode_call_by_id");
}

export function callByIdempotencyKey(db: Db, tenant: string, key: string): Promise<CallRow | undefined> {
  return oneCall(db, "tenant = $1 AND idempotency_key = $2 AND idempotency_key <> ''", [tenant, key]);
}

export function callByProviderCallId(
  db: Db,
  provider: string,
  providerCallId: string,
): Promise<CallRow | undefined> {
  return oneCall(db, "provider = $1 AND provider_call_id = $2 AND provider_call_id <> ''", [
    provider,
    providerCallId,
  ]);
}

export async function setProviderCallId(
  db: Db,
  callId: string,
  providerCallId: string,
  nowMs: number,
): Promise<void> {
  await db.query("UPDATE calls SET provider_call_id = $1, updated_at_ms = $2 WHERE call_id = $3", [
    providerCallId,
    nowMs,
    callId,
  ]);
}

/** Moves the call; the sealed request goes as soon as the call has ended for good. */
export async function setCallState(
  db: Db,
  callId: string,
  state: number,
  failureReason: number,
  reasonProvisional: boolean,
  nowMs: number,
  continues = false,
): Promise<void> {
  await db.query(
    `UPDATE calls SET state = $1, failure_reason = $2, reason_provisional = $3, updated_at_ms = $4,
       continues = $6,
       sealed_request = CASE WHEN $1 IN (6, 7) AND NOT $6 THEN NULL ELSE sealed_request END
     WHERE call_id = $5`,
    [state, failureReason, reasonProvisional, nowMs, callId, continues],
  );
}

export async function startAttempt(db: Db, callId: string, attempt: number, provider: string, nowMs: number): Promise<void> {
  await db.query(
    `UPDATE calls SET attempt = $2, provider = $3, provider_call_id = '', state = 1,
       failure_reason = 0, reason_provisional = false, continues = false, updated_at_ms = $4
     WHERE call_id = $1`,
    [callId, attempt, provider, nowMs],
  );
  await insertAttempt(db, callId, attempt, provider, nowMs);
}

export async function insertAttempt(db: Db, callId: string, attempt: number, provider: string, nowMs: number): Promise<void> {
  await db.query("INSERT INTO attempts (call_id, attempt, provider, started_at_ms) VALUES ($1, $2, $3, $4)", [
    callId,
    attempt,
    provider,
    nowMs,
  ]);
}

export async function setAttemptAnswer(
  db: Db,
  p: {
    callId: string;
    attempt: number;
    outcome: AttemptRow["outcome"];
    providerCallId: string;
    failureReason: number;
    providerCode: string;
    providerText: string;
    endedAtMs: number | null;
  },
): Promise<void> {
  await db.query(
    `UPDATE attempts SET outcome = $3,
       provider_call_id = CASE WHEN $4 <> '' THEN $4 ELSE provider_call_id END,
       failure_reason = $5, provider_code = $6, provider_text = $7, ended_at_ms = $8
     WHERE call_id = $1 AND attempt = $2`,
    [p.callId, p.attempt, p.outcome, p.providerCallId, p.failureReason, p.providerCode, p.providerText, p.endedAtMs],
  );
}

export async function setAttemptProviderCallId(db: Db, callId: string, attempt: number, providerCallId: string): Promise<void> {
  await db.query(
    "UPDATE attempts SET provider_call_id = $3 WHERE call_id = $1 AND attempt = $2 AND provider_call_id = ''",
    [callId, attempt, providerCallId],
  );
}

export async function attemptsByCall(db: Db, callId: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>("SELECT * FROM attempts WHERE call_id = $1 ORDER BY attempt", [callId]);
  return rows;
}

export async function attempt(db: Db, callId: string, number: number): Promise<AttemptRow | undefined> {
  const { rows } = await db.query<AttemptRow>("SELECT * FROM attempts WHERE call_id = $1 AND attempt = $2", [
    callId,
    number,
  ]);
  return rows[0];
}

export async function attemptByProviderCallId(db: Db, provider: string, providerCallId: string): Promise<AttemptRow | undefined> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT * FROM attempts WHERE provider = $1 AND provider_call_id = $2 AND provider_call_id <> ''
     ORDER BY attempt DESC LIMIT 1`,
    [provider, providerCallId],
  );
  return rows[0];
}

export async function insertFallback(db: Db, callId: string, attempt: number, nowMs: number): Promise<void> {
  await db.query(
    "INSERT INTO fallbacks (call_id, attempt, decided_at_ms) VALUES ($1, $2, $3) ON CONFLICT (call_id) DO NOTHING",
    [callId, attempt, nowMs],
  );
}

export async function postponeFallback(db: Db, callId: string, attempt: number, dueAtMs: number): Promise<void> {
  await db.query("UPDATE fallbacks SET decided_at_ms = $3 WHERE call_id = $1 AND attempt = $2", [callId, attempt, dueAtMs]);
}

/** Deleting the decision is the claim: of two replicas, the second deletes nothing. */
export async function claimFallback(db: Db, callId: string, attempt: number): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM fallbacks WHERE call_id = $1 AND attempt = $2", [callId, attempt]);
  return rowCount === 1;
}

export async function dueFallbacks(
  db: Db,
  limit: number,
  decidedByMs: number,
): Promise<Array<{ call_id: string; attempt: number }>> {
  const { rows } = await db.query<{ call_id: string; attempt: number }>(
    "SELECT call_id, attempt FROM fallbacks WHERE decided_at_ms <= $2 ORDER BY decided_at_ms, call_id LIMIT $1",
    [limit, decidedByMs],
  );
  return rows;
}

export async function callRoute(db: Db, callId: string): Promise<{ route: unknown; sealed_request: string | null } | undefined> {
  const { rows } = await db.query<{ route: unknown; sealed_request: string | null }>(
    "SELECT route, sealed_request FROM calls WHERE call_id = $1",
    [callId],
  );
  return rows[0];
}

export async function insertEvent(db: Db, p: InsertEventParams): Promise<EventRow> {
  const { rows } = await db.query<EventRow>(
    `INSERT INTO events (call_id, client_reference, state, failure_reason, provider,
       provider_call_id, provider_code, provider_text, occurred_at_ms, recorded_at_ms,
       provisional, tenant, attempt, continues, pressed_key, duration_seconds, answered_at_ms,
       ended_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     RETURNING ${EVENT_COLUMNS}`,
    [
      p.call_id,
      p.client_reference,
      p.state,
      p.failure_reason,
      p.provider,
      p.provider_call_id,
      p.provider_code,
      p.provider_text,
      p.occurred_at_ms,
      p.recorded_at_ms,
      p.provisional,
      p.tenant,
      p.attempt,
      p.continues,
      p.pressed_key,
      p.duration_seconds,
      p.answered_at_ms,
      p.ended_at_ms,
    ],
  );
  const row = rows[0];
  if (row === undefined) throw new Error("postgres store: event insert returned no row");
  return row;
}

/** The events after a sequence, one call's or one client reference's, in sequence order. */
/**
 * `tenant`: only that tenant's events (a reference is unique within a tenant only). Named,
 * one statement per column: a watch of one call runs it on every event.
 */
export async function eventsAfter(
  db: Db,
  column: "call_id" | "client_reference",
  value: string,
  afterSequence: number,
  limit: number,
  tenant?: string,
): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>({
    name: `voicecode_events_after_${column}`,
    text: `SELECT ${EVENT_COLUMNS} FROM events WHERE ${column} = $1 AND sequence > $2
       AND ($4::text IS NULL OR tenant = $4)
     ORDER BY sequence LIMIT $3`,
    values: [value, afterSequence, limit, tenant ?? null],
  });
  return rows;
}

export interface HorizonRow extends EventRow {
  /** At or below the horizon (visibility.ts): nothing can still commit before it. */
  final: boolean;
}

/**
 * Like eventsAfter, each row marked with whether it is below the horizon computed in the
 * same snapshot. The final rows are a prefix, since the rows come in sequence order.
 */
export async function eventsAfterWithHorizon(
  db: Db,
  column: "call_id" | "client_reference",
  value: string,
  afterSequence: number,
  limit: number,
  tenant?: string,
): Promise<HorizonRow[]> {
  const { rows } = await db.query<HorizonRow>(
    `WITH h AS MATERIALIZED (SELECT ${EVENT_HORIZON_SQL} AS upto)
     SELECT e.*, e.sequence <= h.upto AS final FROM h, LATERAL (
       SELECT ${EVENT_COLUMNS} FROM events WHERE ${column} = $1 AND sequence > $2
         AND ($4::text IS NULL OR tenant = $4)
       ORDER BY sequence LIMIT $3
     ) e
     ORDER BY e.sequence`,
    [value, afterSequence, limit, tenant ?? null],
  );
  return rows;
}

/**
 * Serializes every transaction counting under `key`, on every replica, until commit.
 * A one-argument (bigint) advisory key: its own space, apart from the two-int
 * LOCK_NAMESPACE keys. A hash collision between two keys only serializes a little more.
 */
export async function lockLimitKey(db: Db, key: string): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
}

export async function countSends(db: Db, key: string, sinceMs: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT COUNT(*)::int AS n FROM send_log WHERE key = $1 AND at_ms > $2",
    [key, sinceMs],
  );
  return rows[0]?.n ?? 0;
}

export async function nthSend(db: Db, key: string, sinceMs: number, offset: number): Promise<number | undefined> {
  const { rows } = await db.query<{ at_ms: number }>(
    "SELECT at_ms FROM send_log WHERE key = $1 AND at_ms > $2 ORDER BY at_ms LIMIT 1 OFFSET $3",
    [key, sinceMs, offset],
  );
  return rows[0]?.at_ms;
}

export async function logSend(db: Db, key: string, atMs: number): Promise<void> {
  await db.query("INSERT INTO send_log (key, at_ms) VALUES ($1, $2)", [key, atMs]);
}

/**
 * Deletes a small batch of rows no window can see any more. SKIP LOCKED: two replicas
 * pruning at once take different rows instead of waiting on (or deadlocking over) each
 * other's.
 */
export async function pruneSends(db: Db, beforeMs: number): Promise<void> {
  await db.query(
    `DELETE FROM send_log WHERE ctid = ANY (ARRAY(
       SELECT ctid FROM send_log WHERE at_ms <= $1 LIMIT 100 FOR UPDATE SKIP LOCKED))`,
    [beforeMs],
  );
}

// The planner's loads and writes (src/store/plan, plan-io.ts).

/** A call row with its route, for the planner. */
export interface RoutedCallRow extends CallRow {
  route: unknown;
}

/**
 * Every call a batch names (by echoed call id, by the provider id of its current
 * attempt, by the provider id of an earlier attempt), row-locked in call id order, so
 * two batches naming the same calls lock them in the same order.
 */
export async function lockCallsFor(
  db: Db,
  provider: string,
  callIds: readonly string[],
  providerCallIds: readonly string[],
): Promise<RoutedCallRow[]> {
  const { rows } = await db.query<RoutedCallRow>({ ...CALLS_FOR_PUSHES, values: [provider, callIds, providerCallIds] });
  return rows;
}

export const CALLS_FOR_PUSHES = {
  name: "voicecode_calls_for_pushes",
  text: `SELECT ${CALL_COLUMNS}, route FROM calls WHERE call_id IN (
       SELECT unnest($2::text[])
       UNION
       SELECT call_id FROM calls WHERE provider = $1 AND provider_call_id = ANY($3::text[])
         AND provider_call_id <> ''
       UNION
       SELECT call_id FROM attempts WHERE provider = $1 AND provider_call_id = ANY($3::text[])
         AND provider_call_id <> '')
     ORDER BY call_id FOR UPDATE`,
} as const;

/** One call with its route, row-locked. */
export async function lockRoutedCall(db: Db, callId: string): Promise<RoutedCallRow | undefined> {
  const { rows } = await db.query<RoutedCallRow>(
    `SELECT ${CALL_COLUMNS}, route FROM calls WHERE call_id = $1 FOR UPDATE`,
    [callId],
  );
  return rows[0];
}

export async function attemptsOf(
  db: Db,
  callIds: readonly string[],
): Promise<Array<Pick<AttemptRow, "call_id" | "attempt" | "provider" | "provider_call_id">>> {
  if (callIds.length === 0) return [];
  const { rows } = await db.query<Pick<AttemptRow, "call_id" | "attempt" | "provider" | "provider_call_id">>({
    ...ATTEMPTS_OF,
    values: [callIds],
  });
  return rows;
}

export const ATTEMPTS_OF = {
  name: "voicecode_attempts_of",
  text: `SELECT call_id, attempt, provider, provider_call_id FROM attempts
     WHERE call_id = ANY($1::text[]) ORDER BY call_id, attempt`,
} as const;

/**
 * Inserts a batch's pushes of one provider as parked, in batch order (received_seq
 * follows it), in one statement; returns the dedupe keys that were new. One seen before,
 * or committed by a concurrent batch (the insert waits for it), is a duplicate.
 *
 * First, in the same statement, it takes the transaction's advisory lock on each
 * provider call id the pushes name. That lock serializes the transactions that park a
 * push under an id with the ones that give a call that id and adopt what is parked:
 * without it, a push parked while a Send result claims the id would be seen by neither
 * and stay parked forever. Taken in one sorted order, before any row lock, so two
 * batches cannot deadlock on them; released at commit or rollback. In the insert's own
 * statement (an InitPlan run before any row) rather than one of its own: the insert reads
 * no table, so the snapshot it took before waiting for a lock changes nothing (its
 * conflict check sees every committed key), and the statements after it, which do read,
 * start after the locks are held.
 */
export async function insertInboundBatch(
  db: Db,
  provider: string,
  rows: readonly InsertInboundParams[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const col = <K extends keyof InsertInboundParams>(k: K) => rows.map((r) => r[k]);
  const lockKeys = [...new Set(rows.map((r) => r.provider_call_id).filter((id) => id !== ""))].sort();
  const { rows: inserted } = await db.query<{ dedupe_key: string }>({
    ...INSERT_INBOUND,
    values: [
      PROVIDER_CALL_LOCK_NAMESPACE,
      provider,
      lockKeys,
      col("provider"),
      col("dedupe_key"),
      col("provider_call_id"),
      col("call_id_hint"),
      col("state"),
      col("failure_reason"),
      col("provider_code"),
      col("provider_text"),
      col("occurred_at_ms"),
      col("provisional"),
      col("received_at_ms"),
      col("pressed_key"),
      col("duration_seconds"),
      col("answered_at_ms"),
      col("ended_at_ms"),
    ],
  });
  return new Set(inserted.map((r) => r.dedupe_key));
}

export const INSERT_INBOUND = {
  name: "voicecode_insert_inbound",
  text: `WITH locks AS MATERIALIZED (
       SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(31) || k))
       FROM unnest($3::text[]) WITH ORDINALITY AS l(k, i) ORDER BY i)
     INSERT INTO inbound (provider, dedupe_key, provider_call_id, call_id_hint, state,
       failure_reason, provider_code, provider_text, occurred_at_ms, provisional,
       disposition, received_at_ms, pressed_key, duration_seconds, answered_at_ms, ended_at_ms)
     SELECT provider, dedupe_key, provider_call_id, call_id_hint, state, failure_reason,
       provider_code, provider_text, occurred_at_ms, provisional, 'parked', received_at_ms,
       pressed_key, duration_seconds, answered_at_ms, ended_at_ms
     FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[],
       $10::text[], $11::text[], $12::bigint[], $13::boolean[], $14::bigint[], $15::text[],
       $16::int[], $17::bigint[], $18::bigint[])
       WITH ORDINALITY AS u(provider, dedupe_key, provider_call_id, call_id_hint, state,
         failure_reason, provider_code, provider_text, occurred_at_ms, provisional,
         received_at_ms, pressed_key, duration_seconds, answered_at_ms, ended_at_ms, i)
     WHERE (SELECT count(*) FROM locks) >= 0
     ORDER BY i
     ON CONFLICT (provider, dedupe_key) DO NOTHING
     RETURNING dedupe_key`,
} as const;

/** Parked pushes under any of the provider ids or echoes, in arrival order. */
export async function parkedForBatch(
  db: Db,
  provider: string,
  providerCallIds: readonly string[],
  callIds: readonly string[],
): Promise<InboundRow[]> {
  // Unnamed: rare (only for calls that may adopt echoes), and a prepared `SELECT *`
  // would fail on its connections once a migration adds a column.
  const { rows } = await db.query<InboundRow>(
    `SELECT * FROM inbound
     WHERE disposition = 'parked' AND provider = $1 AND provider_call_id = ANY($2::text[])
       AND provider_call_id <> ''
     UNION
     SELECT * FROM inbound
     WHERE disposition = 'parked' AND provider = $1 AND call_id_hint = ANY($3::text[])
     ORDER BY received_seq`,
    [provider, providerCallIds, callIds],
  );
  return rows;
}

/** The final row of a call a plan moved; the sealed request goes once it has ended for good. */
export async function writeCall(
  db: Db,
  p: {
    callId: string;
    state: number;
    failureReason: number;
    reasonProvisional: boolean;
    continues: boolean;
    providerCallId: string;
    attempt: number;
    provider: string;
    nowMs: number;
  },
): Promise<void> {
  await db.query(
    `UPDATE calls SET state = $2, failure_reason = $3, reason_provisional = $4, continues = $5,
       provider_call_id = $6, attempt = $7, provider = $8, updated_at_ms = $9,
       sealed_request = CASE WHEN $2 IN (6, 7) AND NOT $5 THEN NULL ELSE sealed_request END
     WHERE call_id = $1`,
    [p.callId, p.state, p.failureReason, p.reasonProvisional, p.continues, p.providerCallId, p.attempt, p.provider, p.nowMs],
  );
}

/** Final dispositions of a change's inbound rows, in one statement. */
export async function setDispositions(
  db: Db,
  rows: ReadonlyArray<{
    provider: string;
    dedupeKey: string;
    disposition: Disposition;
    callId: string | null;
    appliedSequence: number | null;
  }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `UPDATE inbound SET disposition = u.disposition, call_id = u.call_id, applied_sequence = u.applied_sequence
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
       AS u(provider, dedupe_key, disposition, call_id, applied_sequence)
     WHERE inbound.provider = u.provider AND inbound.dedupe_key = u.dedupe_key`,
    [
      rows.map((r) => r.provider),
      rows.map((r) => r.dedupeKey),
      rows.map((r) => r.disposition),
      rows.map((r) => r.callId),
      rows.map((r) => r.appliedSequence),
    ],
  );
}
