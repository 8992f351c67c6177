/**
 * Schema history. Each entry is one step; its 1-based position is the schema version
 * it produces, recorded in PRAGMA user_version. Steps are append-only: an edited step
 * would never run again on files that already passed it.
 */
import type Database from "better-sqlite3";

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE calls (
    call_id          TEXT    PRIMARY KEY,
    provider         TEXT    NOT NULL,
    provider_call_id TEXT    NOT NULL DEFAULT '',
    phone_masked     TEXT    NOT NULL,
    play_times       INTEGER NOT NULL,
    client_reference TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL DEFAULT '',
    request_hash     TEXT    NOT NULL DEFAULT '',
    metadata         TEXT    NOT NULL DEFAULT '{}',
    state            INTEGER NOT NULL,
    failure_reason   INTEGER NOT NULL DEFAULT 0,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
  );
  -- Partial: an empty key means "no idempotency", and many calls share it.
  CREATE UNIQUE INDEX calls_idempotency_key ON calls (idempotency_key)
    WHERE idempotency_key <> '';
  -- Partial: the id is unknown until the provider answers Send.
  CREATE UNIQUE INDEX calls_provider_call_id ON calls (provider, provider_call_id)
    WHERE provider_call_id <> '';
  CREATE INDEX calls_client_reference ON calls (client_reference);

  -- AUTOINCREMENT so a sequence is never reused: watchers resume from the last one seen.
  CREATE TABLE events (
    sequence         INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id          TEXT    NOT NULL REFERENCES calls (call_id),
    client_reference TEXT    NOT NULL,
    state            INTEGER NOT NULL,
    failure_reason   INTEGER NOT NULL,
    provider         TEXT    NOT NULL,
    provider_call_id TEXT    NOT NULL,
    provider_code    TEXT    NOT NULL,
    provider_text    TEXT    NOT NULL,
    occurred_at_ms   INTEGER NULL,
    recorded_at_ms   INTEGER NOT NULL
  );
  CREATE INDEX events_call ON events (call_id, sequence);
  CREATE INDEX events_client_reference ON events (client_reference, sequence);

  -- Every push ever received. The unique (provider, dedupe_key) constraint is the dedupe;
  -- received_seq gives a stable arrival order for adopting parked pushes (rowid is not
  -- stable across VACUUM unless aliased, and timestamps tie).
  CREATE TABLE inbound (
    received_seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    provider         TEXT    NOT NULL,
    dedupe_key       TEXT    NOT NULL,
    provider_call_id TEXT    NOT NULL,
    call_id_hint     TEXT    NULL,
    state            INTEGER NOT NULL,
    failure_reason   INTEGER NOT NULL,
    provider_code    TEXT    NOT NULL,
    provider_text    TEXT    NOT NULL,
    occurred_at_ms   INTEGER NULL,
    disposition      TEXT    NOT NULL CHECK (disposition IN ('applied', 'stale', 'parked')),
    call_id          TEXT    NULL REFERENCES calls (call_id),
    applied_sequence INTEGER NULL REFERENCES events (sequence),
    received_at_ms   INTEGER NOT NULL,
    UNIQUE (provider, dedupe_key)
  );
  CREATE INDEX inbound_parked_provider_call_id ON inbound (provider, provider_call_id)
    WHERE disposition = 'parked';
  CREATE INDEX inbound_parked_call_id_hint ON inbound (provider, call_id_hint)
    WHERE disposition = 'parked';
  `,
  // 2: a failure reason may be provisional until the provider's precise one arrives.
  `
  ALTER TABLE calls   ADD COLUMN reason_provisional INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE inbound ADD COLUMN provisional        INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE events  ADD COLUMN provisional        INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: request fingerprints are keyed ("k1:..."); rows holding a bare digest are re-keyed
  // at every open (src/store/fingerprints.ts). This partial index holds only those rows,
  // so once they are done the check costs one empty index probe, not a table scan.
  `
  CREATE INDEX calls_legacy_request_hash ON calls (call_id)
    WHERE request_hash <> '' AND substr(request_hash, 1, 3) <> 'k1:';
  `,
  // 4: call deadlines and retention (src/store/sqlite/lifecycle.ts). 6 and 7 are
  // COMPLETED and FAILED; the queries repeat these predicates verbatim, which is what
  // lets SQLite use a partial index. The inbound foreign keys get indexes so deleting an
  // event or a call checks its referencing pushes without a full scan.
  `
  CREATE INDEX calls_open_created   ON calls (created_at_ms)    WHERE state NOT IN (6, 7);
  CREATE INDEX calls_open_provider  ON calls (provider, call_id) WHERE state NOT IN (6, 7);
  CREATE INDEX calls_closed_updated ON calls (updated_at_ms)    WHERE state IN (6, 7);
  CREATE INDEX inbound_call_id          ON inbound (call_id);
  CREATE INDEX inbound_applied_sequence ON inbound (applied_sequence);
  CREATE INDEX inbound_parked_received  ON inbound (received_at_ms) WHERE disposition = 'parked';
  `,
  // 5: callers (tenants) and limits. Calls and their events belong to a tenant (rows from
  // before keys existed belong to "default"); idempotency keys are scoped per tenant;
  // send_log counts Sends per limit key ("n:<keyed number hash>", "t:<tenant>").
  `
  ALTER TABLE calls  ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
  ALTER TABLE events ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
  DROP INDEX calls_idempotency_key;
  CREATE UNIQUE INDEX calls_tenant_idempotency_key ON calls (tenant, idempotency_key)
    WHERE idempotency_key <> '';
  CREATE INDEX events_tenant_client_reference ON events (tenant, client_reference, sequence);
  CREATE TABLE send_log (
    key   TEXT    NOT NULL,
    at_ms INTEGER NOT NULL
  );
  CREATE INDEX send_log_key_at ON send_log (key, at_ms);
  CREATE INDEX send_log_at ON send_log (at_ms);
  `,
  // 6 (routing): a call is carried by one or more attempts, one provider request each.
  `
  ALTER TABLE calls  ADD COLUMN attempt        INTEGER NOT NULL DEFAULT 1;
  -- FAILED, and a next attempt has been decided: not terminal.
  ALTER TABLE calls  ADD COLUMN continues      INTEGER NOT NULL DEFAULT 0;
  -- JSON CallRoute (src/core/attempts.ts) when a later attempt may follow it.
  ALTER TABLE calls  ADD COLUMN route          TEXT    NULL;
  -- The request sealed with the server secret, only while an outcome fallback may need it.
  ALTER TABLE calls  ADD COLUMN sealed_request TEXT    NULL;
  ALTER TABLE events ADD COLUMN attempt        INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE events ADD COLUMN continues      INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE attempts (
    call_id          TEXT    NOT NULL REFERENCES calls (call_id),
    attempt          INTEGER NOT NULL,
    provider         TEXT    NOT NULL,
    provider_call_id TEXT    NOT NULL DEFAULT '',
    outcome          TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (outcome IN ('pending', 'accepted', 'rejected', 'ambiguous')),
    failure_reason   INTEGER NOT NULL DEFAULT 0,
    provider_code    TEXT    NOT NULL DEFAULT '',
    provider_text    TEXT    NOT NULL DEFAULT '',
    started_at_ms    INTEGER NOT NULL,
    ended_at_ms      INTEGER NULL,
    PRIMARY KEY (call_id, attempt)
  );
  -- Late pushes of an earlier attempt are recognised by its provider id.
  CREATE INDEX attempts_provider_call_id ON attempts (provider, provider_call_id)
    WHERE provider_call_id <> '';
  INSERT INTO attempts (call_id, attempt, provider, provider_call_id, outcome, started_at_ms, ended_at_ms)
    SELECT c.call_id, 1, c.provider, c.provider_call_id,
           CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.call_id = c.call_id AND e.state = 2) THEN 'accepted'
                WHEN c.state = 7 THEN 'rejected'
                ELSE 'pending' END,
           c.created_at_ms, NULL
    FROM calls c;

  -- A next attempt decided by an outcome fallback and not yet placed. The primary key
  -- makes the decision once per call; deleting the row is the claim to place it.
  CREATE TABLE fallbacks (
    call_id        TEXT    PRIMARY KEY REFERENCES calls (call_id),
    attempt        INTEGER NOT NULL,
    decided_at_ms  INTEGER NOT NULL
  );
  `,
  // verifications (the Check RPC, src/store/sqlite/verifications.ts): one row per call
  // that asked for one, holding a keyed hash of its code (emptied once it has no use),
  // its expiry and attempts budget. Events a Check records carry a VerificationState and
  // repeat the call's state; lifecycle events keep 0. Retention deletes a call's row
  // with the call.
  `
  CREATE TABLE verifications (
    call_id          TEXT    PRIMARY KEY REFERENCES calls (call_id),
    tenant           TEXT    NOT NULL,
    client_reference TEXT    NOT NULL,
    code_hash        TEXT    NOT NULL,
    expires_at_ms    INTEGER NOT NULL,
    attempts_left    INTEGER NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'locked', 'expired')),
    superseded       INTEGER NOT NULL DEFAULT 0,
    created_at_ms    INTEGER NOT NULL
  );
  CREATE INDEX verifications_reference ON verifications (tenant, client_reference, created_at_ms);
  ALTER TABLE events ADD COLUMN verification INTEGER NOT NULL DEFAULT 0;
  `,
  // Notifications (Notify): what a call says, the logical template name (never its
  // parameters), and what a provider reports beyond the state (IVR key press,
  // connected seconds, answer and end times) on events and on parked pushes, which
  // become events later. Existing calls are verification calls.
  `
  ALTER TABLE calls ADD COLUMN kind TEXT NOT NULL DEFAULT 'verification';
  ALTER TABLE calls ADD COLUMN template_name TEXT NOT NULL DEFAULT '';
  ALTER TABLE events ADD COLUMN pressed_key TEXT NULL;
  ALTER TABLE events ADD COLUMN duration_seconds INTEGER NULL;
  ALTER TABLE events ADD COLUMN answered_at_ms INTEGER NULL;
  ALTER TABLE events ADD COLUMN ended_at_ms INTEGER NULL;
  ALTER TABLE inbound ADD COLUMN pressed_key TEXT NULL;
  ALTER TABLE inbound ADD COLUMN duration_seconds INTEGER NULL;
  ALTER TABLE inbound ADD COLUMN answered_at_ms INTEGER NULL;
  ALTER TABLE inbound ADD COLUMN ended_at_ms INTEGER NULL;
  `,
];

function userVersion(db: Database.Database): number {
  const version = db.pragma("user_version", { simple: true });
  if (typeof version !== "number") throw new Error("sqlite: unreadable user_version");
  return version;
}

/**
 * Brings `db` up to the latest known version in one transaction and returns how many
 * steps ran (0 when already current). Refuses a file written by a newer build: running
 * old code against a schema it does not know could silently corrupt it.
 */
export function applyMigrations(
  db: Database.Database,
  migrations: readonly string[] = MIGRATIONS,
): number {
  const migrate = db.transaction((): number => {
    const current = userVersion(db);
    if (current > migrations.length) {
      throw new Error(
        `sqlite: database schema version ${current} is newer than this build supports ` +
          `(${migrations.length}); upgrade voicecode or use another database file`,
      );
    }
    for (let version = current + 1; version <= migrations.length; version++) {
      db.exec(migrations[version - 1] ?? "");
      // PRAGMA takes no bound parameters; `version` is a loop integer, not input.
      db.pragma(`user_version = ${version}`);
    }
    return migrations.length - current;
  });
  // IMMEDIATE: two processes opening the same old file must not both start migrating.
  return migrate.immediate();
}
