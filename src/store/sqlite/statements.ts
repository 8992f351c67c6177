/** Every SQL statement the store runs, prepared once per connection. */
import type Database from "better-sqlite3";
import type { AttemptRow } from "../attempt-rows.js";
import type { CallRow, Disposition, EventRow, InboundRow } from "./rows.js";

export interface InsertCallParams {
  call_id: string;
  kind: string;
  template_name: string;
  tenant: string;
  provider: string;
  phone_masked: string;
  play_times: number;
  client_reference: string;
  idempotency_key: string;
  request_hash: string;
  metadata: string;
  state: number;
  route: string | null;
  sealed_request: string | null;
  now_ms: number;
}

export interface SetCallStateParams {
  call_id: string;
  state: number;
  failure_reason: number;
  reason_provisional: number;
  continues: number;
  now_ms: number;
}

export interface AttemptAnswerParams {
  call_id: string;
  attempt: number;
  outcome: AttemptRow["outcome"];
  provider_call_id: string;
  failure_reason: number;
  provider_code: string;
  provider_text: string;
  ended_at_ms: number | null;
}

// The three statements every report runs (ingest's event, inbound row and call update)
// bind by position: binding 18 values by name cost about a third of each statement.
// Each tuple lists the columns in the order of its statement's VALUES or SET.

/** An event row (verification: only Check writes it, src/store/sqlite/verifications.ts; default 0). */
export type InsertEventArgs = [
  call_id: string,
  tenant: string,
  client_reference: string,
  state: number,
  failure_reason: number,
  provider: string,
  provider_call_id: string,
  provider_code: string,
  provider_text: string,
  occurred_at_ms: number | null,
  recorded_at_ms: number,
  provisional: number,
  attempt: number,
  continues: number,
  pressed_key: string | null,
  duration_seconds: number | null,
  answered_at_ms: number | null,
  ended_at_ms: number | null,
];

export type InsertInboundParams = Omit<
  InboundRow,
  "received_seq" | "disposition" | "call_id" | "applied_sequence"
>;

export interface DispositionParams {
  provider: string;
  dedupe_key: string;
  disposition: Disposition;
  call_id: string | null;
  applied_sequence: number | null;
}

export interface ParkedForParams {
  provider: string;
  provider_call_id: string;
  call_id: string;
}

/** Every column a CallRow reads; the one list all queries of calls share. */
export const CALL_COLUMNS = `call_id, kind, template_name, tenant, provider, provider_call_id, phone_masked, play_times,
  client_reference, idempotency_key, request_hash, metadata, state, failure_reason,
  reason_provisional, attempt, continues, created_at_ms, updated_at_ms`;

/** A call row with what the planner also needs: its route and its attempts (JSON). */
export const LOADED_CALL_COLUMNS = `c.call_id, c.kind, c.template_name, c.tenant, c.provider, c.provider_call_id, c.phone_masked,
  c.play_times, c.client_reference, c.idempotency_key, c.request_hash, c.metadata, c.state,
  c.failure_reason, c.reason_provisional, c.attempt, c.continues, c.created_at_ms, c.updated_at_ms,
  c.route,
  (SELECT json_group_array(json_array(a.attempt, a.provider, a.provider_call_id))
     FROM attempts a WHERE a.call_id = c.call_id) AS attempts_json`;

export interface LoadedCallRow extends CallRow {
  route: string | null;
  /** [[attempt, provider, provider_call_id], ...] */
  attempts_json: string;
}

/** A call's final row after a plan; state and continues come twice (the SET, then the CASE). */
export type WriteCallArgs = [
  state: number,
  failure_reason: number,
  reason_provisional: number,
  continues: number,
  provider_call_id: string,
  attempt: number,
  provider: string,
  updated_at_ms: number,
  state_again: number,
  continues_again: number,
  call_id: string,
];

/** writeCall without the attempt, provider and provider id. */
export type MoveCallArgs = [
  state: number,
  failure_reason: number,
  reason_provisional: number,
  continues: number,
  updated_at_ms: number,
  state_again: number,
  continues_again: number,
  call_id: string,
];

/** A push settled in the change that received it. */
export type InsertSettledInboundArgs = [
  provider: string,
  dedupe_key: string,
  provider_call_id: string,
  call_id_hint: string | null,
  state: number,
  failure_reason: number,
  provider_code: string,
  provider_text: string,
  occurred_at_ms: number | null,
  provisional: number,
  disposition: Disposition,
  call_id: string | null,
  applied_sequence: number | null,
  received_at_ms: number,
  pressed_key: string | null,
  duration_seconds: number | null,
  answered_at_ms: number | null,
  ended_at_ms: number | null,
];

export function prepareStatements(db: Database.Database) {
  return {
    // The planner's loads (src/store/plan): a call with its route and attempts, in one row.
    loadedCallById: db.prepare<[string], LoadedCallRow>(
      `SELECT ${LOADED_CALL_COLUMNS} FROM calls c WHERE c.call_id = ?`,
    ),
    // Every call a batch names: by echoed call id, by the provider id of its current
    // attempt, by the provider id of an earlier attempt. One statement per batch.
    loadedCallsFor: db.prepare<{ provider: string; call_ids: string; provider_call_ids: string }, LoadedCallRow>(
      `WITH ids (call_id) AS (
         SELECT value FROM json_each(@call_ids)
         UNION
         SELECT call_id FROM calls WHERE provider = @provider AND provider_call_id <> ''
           AND provider_call_id IN (SELECT value FROM json_each(@provider_call_ids))
         UNION
         SELECT call_id FROM attempts WHERE provider = @provider AND provider_call_id <> ''
           AND provider_call_id IN (SELECT value FROM json_each(@provider_call_ids)))
       SELECT ${LOADED_CALL_COLUMNS} FROM ids JOIN calls c ON c.call_id = ids.call_id`,
    ),
    seenDedupeKeys: db.prepare<[string, string], { dedupe_key: string }>(
      `SELECT dedupe_key FROM inbound
       WHERE provider = ? AND dedupe_key IN (SELECT value FROM json_each(?))`,
    ),
    parkedForBatch: db.prepare<{ provider: string; provider_call_ids: string; call_ids: string }, InboundRow>(
      `SELECT * FROM inbound
       WHERE disposition = 'parked' AND provider = @provider AND provider_call_id <> ''
         AND provider_call_id IN (SELECT value FROM json_each(@provider_call_ids))
       UNION
       SELECT * FROM inbound
       WHERE disposition = 'parked' AND provider = @provider
         AND call_id_hint IN (SELECT value FROM json_each(@call_ids))
       ORDER BY received_seq`,
    ),
    // The final row of a call a plan moved; the sealed request goes once it has ended for good.
    writeCall: db.prepare<WriteCallArgs>(
      `UPDATE calls SET state = ?, failure_reason = ?, reason_provisional = ?, continues = ?,
         provider_call_id = ?, attempt = ?, provider = ?, updated_at_ms = ?,
         sealed_request = CASE WHEN ? IN (6, 7) AND ? = 0 THEN NULL ELSE sealed_request END
       WHERE call_id = ?`,
    ),
    // The same for a call whose attempt, provider and provider id stayed: leaving those
    // columns out of the SET spares the provider-id index its delete and re-insert.
    moveCall: db.prepare<MoveCallArgs>(
      `UPDATE calls SET state = ?, failure_reason = ?, reason_provisional = ?, continues = ?,
         updated_at_ms = ?,
         sealed_request = CASE WHEN ? IN (6, 7) AND ? = 0 THEN NULL ELSE sealed_request END
       WHERE call_id = ?`,
    ),
    // A push settled in the change that received it: inserted once, already settled.
    insertSettledInbound: db.prepare<InsertSettledInboundArgs>(
      `INSERT INTO inbound (provider, dedupe_key, provider_call_id, call_id_hint, state,
         failure_reason, provider_code, provider_text, occurred_at_ms, provisional,
         disposition, call_id, applied_sequence, received_at_ms, pressed_key, duration_seconds,
         answered_at_ms, ended_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Conflict target is the idempotency index only: a clashing call_id is a bug and
    // must throw, not silently return someone else's call. Returns the new row (nothing
    // on a conflict), so the store need not read back what it has just written.
    insertCall: db.prepare<InsertCallParams, CallRow>(
      `INSERT INTO calls (call_id, kind, template_name, tenant, provider, phone_masked, play_times,
         client_reference, idempotency_key, request_hash, metadata, state, failure_reason, route,
         sealed_request, created_at_ms, updated_at_ms)
       VALUES (@call_id, @kind, @template_name, @tenant, @provider, @phone_masked, @play_times,
         @client_reference, @idempotency_key, @request_hash, @metadata, @state, 0, @route,
         @sealed_request, @now_ms, @now_ms)
       ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key <> '' DO NOTHING
       RETURNING ${CALL_COLUMNS}`,
    ),
    callById: db.prepare<[string], CallRow>(`SELECT ${CALL_COLUMNS} FROM calls WHERE call_id = ?`),
    callByIdempotencyKey: db.prepare<[string, string], CallRow>(
      `SELECT ${CALL_COLUMNS} FROM calls
       WHERE tenant = ? AND idempotency_key = ? AND idempotency_key <> ''`,
    ),
    callByProviderCallId: db.prepare<[string, string], CallRow>(
      `SELECT ${CALL_COLUMNS} FROM calls
       WHERE provider = ? AND provider_call_id = ? AND provider_call_id <> ''`,
    ),
    setProviderCallId: db.prepare<[string, number, string]>(
      `UPDATE calls SET provider_call_id = ?, updated_at_ms = ? WHERE call_id = ?`,
    ),
    // The sealed request goes as soon as the call has ended for good.
    setCallState: db.prepare<SetCallStateParams>(
      `UPDATE calls SET state = @state, failure_reason = @failure_reason,
         reason_provisional = @reason_provisional, continues = @continues, updated_at_ms = @now_ms,
         sealed_request = CASE WHEN @state IN (6, 7) AND @continues = 0 THEN NULL ELSE sealed_request END
       WHERE call_id = @call_id`,
    ),
    startAttempt: db.prepare<[number, string, number, string]>(
      `UPDATE calls SET attempt = ?, provider = ?, provider_call_id = '', state = 1,
         failure_reason = 0, reason_provisional = 0, continues = 0, updated_at_ms = ?
       WHERE call_id = ?`,
    ),
    insertAttempt: db.prepare<[string, number, string, number]>(
      `INSERT INTO attempts (call_id, attempt, provider, started_at_ms) VALUES (?, ?, ?, ?)`,
    ),
    setAttemptAnswer: db.prepare<AttemptAnswerParams>(
      `UPDATE attempts SET outcome = @outcome,
         provider_call_id = CASE WHEN @provider_call_id <> '' THEN @provider_call_id ELSE provider_call_id END,
         failure_reason = @failure_reason, provider_code = @provider_code,
         provider_text = @provider_text, ended_at_ms = @ended_at_ms
       WHERE call_id = @call_id AND attempt = @attempt`,
    ),
    setAttemptProviderCallId: db.prepare<[string, string, number]>(
      `UPDATE attempts SET provider_call_id = ? WHERE call_id = ? AND attempt = ? AND provider_call_id = ''`,
    ),
    attemptsByCall: db.prepare<[string], AttemptRow>(
      `SELECT * FROM attempts WHERE call_id = ? ORDER BY attempt`,
    ),
    attempt: db.prepare<[string, number], AttemptRow>(
      `SELECT * FROM attempts WHERE call_id = ? AND attempt = ?`,
    ),
    attemptByProviderCallId: db.prepare<[string, string], AttemptRow>(
      `SELECT * FROM attempts WHERE provider = ? AND provider_call_id = ? AND provider_call_id <> ''
       ORDER BY attempt DESC LIMIT 1`,
    ),
    insertFallback: db.prepare<[string, number, number]>(
      `INSERT INTO fallbacks (call_id, attempt, decided_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (call_id) DO NOTHING`,
    ),
    claimFallback: db.prepare<[string, number]>(`DELETE FROM fallbacks WHERE call_id = ? AND attempt = ?`),
    postponeFallback: db.prepare<[number, string, number]>(
      `UPDATE fallbacks SET decided_at_ms = ? WHERE call_id = ? AND attempt = ?`,
    ),
    dueFallbacks: db.prepare<[number, number], { call_id: string; attempt: number }>(
      `SELECT call_id, attempt FROM fallbacks WHERE decided_at_ms <= ? ORDER BY decided_at_ms, call_id LIMIT ?`,
    ),
    callRoute: db.prepare<[string], { route: string | null; sealed_request: string | null }>(
      `SELECT route, sealed_request FROM calls WHERE call_id = ?`,
    ),
    // No RETURNING: the sequence is the rowid (lastInsertRowid), the rest is what was written.
    insertEvent: db.prepare<InsertEventArgs>(
      `INSERT INTO events (call_id, tenant, client_reference, state, failure_reason, provider,
         provider_call_id, provider_code, provider_text, occurred_at_ms, recorded_at_ms,
         provisional, attempt, continues, pressed_key, duration_seconds, answered_at_ms, ended_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Inserted as parked; the disposition is settled once the push has been matched.
    insertInbound: db.prepare<InsertInboundParams>(
      `INSERT INTO inbound (provider, dedupe_key, provider_call_id, call_id_hint, state,
         failure_reason, provider_code, provider_text, occurred_at_ms, provisional,
         disposition, received_at_ms, pressed_key, duration_seconds, answered_at_ms, ended_at_ms)
       VALUES (@provider, @dedupe_key, @provider_call_id, @call_id_hint, @state,
         @failure_reason, @provider_code, @provider_text, @occurred_at_ms, @provisional, 'parked',
         @received_at_ms, @pressed_key, @duration_seconds, @answered_at_ms, @ended_at_ms)
       ON CONFLICT (provider, dedupe_key) DO NOTHING`,
    ),
    setDisposition: db.prepare<DispositionParams>(
      `UPDATE inbound SET disposition = @disposition, call_id = @call_id,
         applied_sequence = @applied_sequence
       WHERE provider = @provider AND dedupe_key = @dedupe_key`,
    ),
    parkedFor: db.prepare<ParkedForParams, InboundRow>(
      // A UNION rather than OR so each branch uses its own partial index.
      `SELECT * FROM inbound
       WHERE disposition = 'parked' AND provider = @provider
         AND provider_call_id = @provider_call_id AND @provider_call_id <> ''
       UNION
       SELECT * FROM inbound
       WHERE disposition = 'parked' AND provider = @provider AND call_id_hint = @call_id
       ORDER BY received_seq`,
    ),
    eventsByCall: db.prepare<[string, number, number], EventRow>(
      `SELECT * FROM events WHERE call_id = ? AND sequence > ? ORDER BY sequence LIMIT ?`,
    ),
    eventsByClientReference: db.prepare<[string, number, number], EventRow>(
      `SELECT * FROM events WHERE client_reference = ? AND sequence > ? ORDER BY sequence LIMIT ?`,
    ),
    eventsByTenantReference: db.prepare<[string, string, number, number], EventRow>(
      `SELECT * FROM events WHERE tenant = ? AND client_reference = ? AND sequence > ?
       ORDER BY sequence LIMIT ?`,
    ),
    // Limits (see store.ts LimitRule): counted Sends under a key inside a window.
    countSends: db.prepare<[string, number], { n: number }>(
      `SELECT COUNT(*) AS n FROM send_log WHERE key = ? AND at_ms > ?`,
    ),
    nthSend: db.prepare<[string, number, number], { at_ms: number }>(
      `SELECT at_ms FROM send_log WHERE key = ? AND at_ms > ? ORDER BY at_ms LIMIT 1 OFFSET ?`,
    ),
    logSend: db.prepare<[string, number]>(`INSERT INTO send_log (key, at_ms) VALUES (?, ?)`),
    // Small batches: a Send pays for a bounded clean-up, never for a backlog.
    pruneSends: db.prepare<[number]>(
      `DELETE FROM send_log WHERE rowid IN (SELECT rowid FROM send_log WHERE at_ms <= ? LIMIT 100)`,
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
