/**
 * Schema history for PostgreSQL: the same tables and rules as the SQLite engine. Each
 * entry is one step, its 1-based position the version it produces, recorded in
 * schema_migrations. Steps are append-only: an edited step never reruns on a database
 * that already passed it.
 */
import type pg from "pg";
import { LOCK_NAMESPACE, MIGRATION_LOCK } from "./constants.js";
import { withClient } from "./pool.js";

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE calls (
    call_id            TEXT     PRIMARY KEY,
    provider           TEXT     NOT NULL,
    provider_call_id   TEXT     NOT NULL DEFAULT '',
    phone_masked       TEXT     NOT NULL,
    play_times         INTEGER  NOT NULL,
    client_reference   TEXT     NOT NULL,
    idempotency_key    TEXT     NOT NULL DEFAULT '',
    request_hash       TEXT     NOT NULL DEFAULT '',
    metadata           JSONB    NOT NULL DEFAULT '{}',
    state              INTEGER  NOT NULL,
    failure_reason     INTEGER  NOT NULL DEFAULT 0,
    -- The failure reason may still be replaced by the provider's precise one.
    reason_provisional BOOLEAN  NOT NULL DEFAULT false,
    created_at_ms      BIGINT   NOT NULL,
    updated_at_ms      BIGINT   NOT NULL
  );
  -- Partial: an empty key means "no idempotency", and many calls share it.
  CREATE UNIQUE INDEX calls_idempotency_key ON calls (idempotency_key)
    WHERE idempotency_key <> '';
  -- Partial: the id is unknown until the provider answers Send.
  CREATE UNIQUE INDEX calls_provider_call_id ON calls (provider, provider_call_id)
    WHERE provider_call_id <> '';
  CREATE INDEX calls_client_reference ON calls (client_reference);

  -- The identity is only ever drawn under the event-order lock (transaction.ts), so
  -- sequence order is commit order. CACHE 1 is essential: with a per-session cache two
  -- connections would hand out interleaved ranges whatever the lock. Rolled-back
  -- transactions leave gaps; watchers only compare sequences, so gaps are harmless.
  CREATE TABLE events (
    sequence         BIGINT  GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
    call_id          TEXT    NOT NULL REFERENCES calls (call_id),
    client_reference TEXT    NOT NULL,
    state            INTEGER NOT NULL,
    failure_reason   INTEGER NOT NULL,
    provider         TEXT    NOT NULL,
    provider_call_id TEXT    NOT NULL,
    provider_code    TEXT    NOT NULL,
    provider_text    TEXT    NOT NULL,
    occurred_at_ms   BIGINT  NULL,
    recorded_at_ms   BIGINT  NOT NULL,
    provisional      BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX events_call ON events (call_id, sequence);
  CREATE INDEX events_client_reference ON events (client_reference, sequence);

  -- Every push ever received. UNIQUE (provider, dedupe_key) is the dedupe: concurrent
  -- deliveries of one push on several replicas insert one row, whoever commits first.
  CREATE TABLE inbound (
    received_seq     BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         TEXT    NOT NULL,
    dedupe_key       TEXT    NOT NULL,
    provider_call_id TEXT    NOT NULL,
    call_id_hint     TEXT    NULL,
    state            INTEGER NOT NULL,
    failure_reason   INTEGER NOT NULL,
    provider_code    TEXT    NOT NULL,
    provider_text    TEXT    NOT NULL,
    occurred_at_ms   BIGINT  NULL,
    provisional      BOOLEAN NOT NULL DEFAULT false,
    disposition      TEXT    NOT NULL CHECK (disposition IN ('applied', 'stale', 'parked')),
    call_id          TEXT    NULL REFERENCES calls (call_id),
    applied_sequence BIGINT  NULL REFERENCES events (sequence),
    received_at_ms   BIGINT  NOT NULL,
    UNIQUE (provider, dedupe_key)
  );
  CREATE INDEX inbound_parked_provider_call_id ON inbound (provider, provider_call_id)
    WHERE disposition = 'parked';
  CREATE INDEX inbound_parked_call_id_hint ON inbound (provider, call_id_hint)
    WHERE disposition = 'parked';
  `,
  // 2: request fingerprints are keyed ("k1:..."); rows holding a bare digest are re-keyed
  // under the migration lock at every start (src/store/fingerprints.ts). This partial
  // index holds only those rows, so once they are done the check is one empty probe.
  `
  CREATE INDEX calls_legacy_request_hash ON calls (call_id)
    WHERE request_hash <> '' AND substr(request_hash, 1, 3) <> 'k1:';
  `,
  // 3: call deadlines and retention (lifecycle.ts). 6 and 7 are COMPLETED and FAILED;
  // the queries repeat these predicates so the planner can use the partial indexes. The
  // inbound foreign keys get indexes so deleting an event or a call checks its
  // referencing pushes without a sequential scan.
  `
  CREATE INDEX calls_open_created   ON calls (created_at_ms)     WHERE state NOT IN (6, 7);
  CREATE INDEX calls_open_provider  ON calls (provider, call_id) WHERE state NOT IN (6, 7);
  CREATE INDEX calls_closed_updated ON calls (updated_at_ms)     WHERE state IN (6, 7);
  CREATE INDEX inbound_call_id          ON inbound (call_id);
  CREATE INDEX inbound_applied_sequence ON inbound (applied_sequence);
  CREATE INDEX inbound_parked_received  ON inbound (received_at_ms) WHERE disposition = 'parked';
  `,
  // 4: callers (tenants) and limits. Calls and their events belong to a tenant (rows from
  // before keys existed belong to "default"); idempotency keys are scoped per tenant;
  // send_log counts Sends per limit key ("n:<keyed number hash>", "t:<tenant>"), written
  // in createCall's transaction under a per-key advisory lock (see postgres-store.ts).
  `
  ALTER TABLE calls  ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
  ALTER TABLE events ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
  DROP INDEX calls_idempotency_key;
  CREATE UNIQUE INDEX calls_tenant_idempotency_key ON calls (tenant, idempotency_key)
    WHERE idempotency_key <> '';
  CREATE INDEX events_tenant_client_reference ON events (tenant, client_reference, sequence);
  CREATE TABLE send_log (
    key   TEXT   NOT NULL,
    at_ms BIGINT NOT NULL
  );
  CREATE INDEX send_log_key_at ON send_log (key, at_ms);
  CREATE INDEX send_log_at ON send_log (at_ms);
  `,
  // 5: event order without a fleet-wide lock: see visibility.ts for the rule these triggers
  // make every insert obey, whichever code runs it.
  `
  -- The writing transaction; NULL for events written before this step.
  ALTER TABLE events ADD COLUMN xact_id xid8 NULL,
    ADD COLUMN settled BOOLEAN NOT NULL DEFAULT false;
  ALTER TABLE events ALTER COLUMN xact_id SET DEFAULT pg_current_xact_id();
  -- Room on the page, so the settling rewrite of a fresh row stays a HOT update.
  ALTER TABLE events SET (fillfactor = 90);

  -- A transaction gets its id before it draws a sequence: a running drawer is then
  -- always among a reader's snapshot's running transactions.
  CREATE FUNCTION voicecode_events_xid_first() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_current_xact_id();
    RETURN NULL;
  END $$;
  CREATE TRIGGER events_xid_first BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION voicecode_events_xid_first();

  -- The row version readers see carries in xmin an id assigned after its sequence was
  -- drawn: the block with an EXCEPTION clause runs the UPDATE in a subtransaction, which
  -- gets a new id of its own.
  CREATE FUNCTION voicecode_events_settle() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    BEGIN
      UPDATE events SET settled = true WHERE sequence = NEW.sequence;
    EXCEPTION WHEN OTHERS THEN
      RAISE;
    END;
    RETURN NULL;
  END $$;
  CREATE TRIGGER events_settle AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION voicecode_events_settle();

  -- Events written before this step: settling the newest by this transaction, whose id
  -- was assigned after all of them were drawn, puts the horizon at or above them all.
  UPDATE events SET settled = true, xact_id = pg_current_xact_id()
    WHERE sequence = (SELECT MAX(sequence) FROM events);
  `,
  // 6 (routing): a call is carried by one or more attempts, one provider request each.
  `
  ALTER TABLE calls  ADD COLUMN attempt        INTEGER NOT NULL DEFAULT 1;
  -- FAILED, and a next attempt has been decided: not terminal.
  ALTER TABLE calls  ADD COLUMN continues      BOOLEAN NOT NULL DEFAULT false;
  -- CallRoute (src/core/attempts.ts) when a later attempt may follow it.
  ALTER TABLE calls  ADD COLUMN route          JSONB   NULL;
  -- The request sealed with the server secret, only while an outcome fallback may need it.
  ALTER TABLE calls  ADD COLUMN sealed_request TEXT    NULL;
  ALTER TABLE events ADD COLUMN attempt        INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE events ADD COLUMN continues      BOOLEAN NOT NULL DEFAULT false;

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
    started_at_ms    BIGINT  NOT NULL,
    ended_at_ms      BIGINT  NULL,
    PRIMARY KEY (call_id, attempt)
  );
  -- Late pushes of an earlier attempt are recognised by its provider id.
  CREATE INDEX attempts_provider_call_id ON attempts (provider, provider_call_id)
    WHERE provider_call_id <> '';
  INSERT INTO attempts (call_id, attempt, provider, provider_call_id, outcome, started_at_ms)
    SELECT c.call_id, 1, c.provider, c.provider_call_id,
           CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.call_id = c.call_id AND e.state = 2) THEN 'accepted'
                WHEN c.state = 7 THEN 'rejected'
                ELSE 'pending' END,
           c.created_at_ms
    FROM calls c;

  -- A next attempt decided by an outcome fallback and not yet placed. The primary key
  -- makes the decision once per call, across replicas; deleting the row is the claim.
  CREATE TABLE fallbacks (
    call_id        TEXT    PRIMARY KEY REFERENCES calls (call_id),
    attempt        INTEGER NOT NULL,
    decided_at_ms  BIGINT  NOT NULL
  );
  `,
  // 7: settle once per writing transaction, not once per event. The per-row settling
  // subtransaction of step 5 puts a Kingsoft batch of 200 reports at 200 subtransactions;
  // past 64 in one transaction PostgreSQL's subxid cache overflows and every snapshot on
  // the server turns slow. A deferred trigger fires at commit, after every sequence this
  // transaction will draw; its first firing settles all of the transaction's events in
  // one subtransaction (whose id is then assigned after all of their draws, which is all
  // visibility.ts needs), the others find nothing left and open no subtransaction.
  `
  DROP TRIGGER events_settle ON events;
  CREATE INDEX events_unsettled ON events (xact_id) WHERE NOT settled;
  CREATE OR REPLACE FUNCTION voicecode_events_settle() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE sequence = NEW.sequence AND NOT settled) THEN
      RETURN NULL;
    END IF;
    BEGIN
      UPDATE events SET settled = true WHERE xact_id = pg_current_xact_id() AND NOT settled;
    EXCEPTION WHEN OTHERS THEN
      RAISE;
    END;
    RETURN NULL;
  END $$;
  CREATE CONSTRAINT TRIGGER events_settle AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION voicecode_events_settle();
  `,
  // verifications (the Check RPC, src/store/postgres/verifications.ts): one row per call
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
    expires_at_ms    BIGINT  NOT NULL,
    attempts_left    INTEGER NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'locked', 'expired')),
    superseded       BOOLEAN NOT NULL DEFAULT false,
    created_at_ms    BIGINT  NOT NULL
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
  ALTER TABLE events ADD COLUMN pressed_key TEXT NULL,
    ADD COLUMN duration_seconds INTEGER NULL,
    ADD COLUMN answered_at_ms BIGINT NULL,
    ADD COLUMN ended_at_ms BIGINT NULL;
  ALTER TABLE inbound ADD COLUMN pressed_key TEXT NULL,
    ADD COLUMN duration_seconds INTEGER NULL,
    ADD COLUMN answered_at_ms BIGINT NULL,
    ADD COLUMN ended_at_ms BIGINT NULL;
  `,
  // 10: settling is a HOT update again. Step 7's partial index named settled in its
  // predicate, which made the column indexed: every settling rewrite of an event row was
  // then a non-HOT update that added an entry to each of the table's five indexes, most of
  // the commit time of a group that wrote events (bench/README.md, "PostgreSQL fan-out").
  // The first firing finds the transaction's other events from its own row upward on the
  // primary key instead: deferred firings run in the order their rows were inserted, and
  // one transaction draws its sequences in increasing order, so the first firing is the
  // transaction's lowest sequence. Should a firing ever come out of that order, the rows
  // below it are settled by their own firings (each in a subtransaction begun after every
  // draw), which is only slower.
  `
  DROP INDEX events_unsettled;
  CREATE OR REPLACE FUNCTION voicecode_events_settle() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE sequence = NEW.sequence AND NOT settled) THEN
      RETURN NULL;
    END IF;
    BEGIN
      UPDATE events SET settled = true
        WHERE sequence >= NEW.sequence AND xact_id = pg_current_xact_id() AND NOT settled;
    EXCEPTION WHEN OTHERS THEN
      RAISE;
    END;
    RETURN NULL;
  END $$;
  `,
];

/**
 * Brings the database up to the latest known version in one transaction and returns how
 * many steps ran (0 when current). The transaction-scoped advisory lock makes replicas
 * that start together queue: the first migrates, the others then find nothing to do.
 * Refuses a database written by a newer build: old code on an unknown schema could
 * silently corrupt it.
 */
export async function applyMigrations(
  pool: pg.Pool,
  migrations: readonly string[] = MIGRATIONS,
  /** Data upkeep that must run once per start under the same lock, after the steps. */
  afterSteps?: (client: pg.PoolClient) => Promise<unknown>,
): Promise<number> {
  return withClient(pool, async (client) => {
    // Explicit: a replica that queued on the lock must read the version the one before it
    // committed. Under a database default of REPEATABLE READ its snapshot would predate
    // that commit, and it would try to create the tables again.
    await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, MIGRATION_LOCK]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version       INTEGER     PRIMARY KEY,
           applied_at    TIMESTAMPTZ NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await client.query<{ current: number }>(
        "SELECT COALESCE(MAX(version), 0)::int AS current FROM schema_migrations",
      );
      const current = rows[0]?.current ?? 0;
      if (current > migrations.length) {
        throw new Error(
          `postgres: database schema version ${current} is newer than this build supports ` +
            `(${migrations.length}); upgrade voicecode or use another database`,
        );
      }
      for (let version = current + 1; version <= migrations.length; version++) {
        await client.query(migrations[version - 1] ?? "");
        await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
      }
      await afterSteps?.(client);
      await client.query("COMMIT");
      return migrations.length - current;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}
