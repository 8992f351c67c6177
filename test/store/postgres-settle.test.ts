/**
 * Settling events (visibility.ts rule 2) costs one subtransaction per writing
 * transaction, not one per event: a Kingsoft batch of 200 reports is one transaction, and
 * more than 64 subtransactions in one would overflow PostgreSQL's per-backend subxid
 * cache and make every snapshot on the server "suboverflowed" (slow pg_subtrans lookups).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { testKeyring } from "../support/keyring.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

const NOW = 1_700_000_000_000;

describePostgres("PostgreSQL: settling a batch's events", () => {
  const database = useTestDatabase();
  let store: PostgresStore;
  beforeAll(async () => {
    store = await createPostgresStore({ connectionString: database.url, keyring: testKeyring(), poolSize: 2 });
  });
  afterAll(async () => {
    await store.close();
  });

  it("settles every event of one transaction with one subtransaction, and the events stay readable", async () => {
    const count = 100;
    for (let i = 0; i < count; i++) {
      const callId = `batch-${i}`;
      await store.createCall({
        callId,
        provider: "kingsoft",
        phoneMasked: "+86*******0000",
        playTimes: 1,
        clientReference: "batch",
        metadata: {},
        idempotencyKey: "",
        requestHash: "k1:h",
        nowMs: NOW,
      });
      await store.recordSendResult(callId, { kind: "accepted", providerCallId: `pc-${i}`, providerCode: "", providerText: "" }, NOW);
    }
    const pushes = Array.from({ length: count }, (_, i) => ({
      dedupeKey: `ringing-${i}`,
      providerCallId: `pc-${i}`,
      callId: undefined,
      state: CallState.RINGING,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: "",
      providerText: "",
      occurredAtMs: undefined,
    }));
    const result = await store.ingest("kingsoft", pushes, NOW + 1);
    expect(result.appended).toHaveLength(count);
    const { rows } = await store.pool.query<{ writers: number; settlers: number; unsettled: number }>(
      `SELECT count(DISTINCT xact_id) AS writers, count(DISTINCT xmin::text) AS settlers,
              count(*) FILTER (WHERE NOT settled) AS unsettled
       FROM events WHERE state = $1`,
      [CallState.RINGING],
    );
    expect(rows[0]).toEqual({ writers: 1, settlers: 1, unsettled: 0 });
    const read = await store.listEvents({ clientReference: "batch" }, 0, 1000);
    expect(read.filter((e) => e.state === CallState.RINGING)).toHaveLength(count);
  });

  it("keeps settled out of every index, so settling a row can be a HOT update (migration 10)", async () => {
    const { rows } = await store.pool.query<{ name: string }>(
      `SELECT i.indexrelid::regclass::text AS name FROM pg_index i
       WHERE i.indrelid = 'events'::regclass
         AND (pg_get_indexdef(i.indexrelid) ~ 'settled' OR pg_get_expr(i.indpred, i.indrelid) ~ 'settled')`,
    );
    expect(rows).toEqual([]);
  });

  it("settles each of two interleaved transactions' events with one subtransaction of its own", async () => {
    const [a, b] = [await store.pool.connect(), await store.pool.connect()];
    try {
      const insert = (db: typeof a, callId: string) =>
        db.query(
          `INSERT INTO events (call_id, client_reference, state, failure_reason, provider, provider_call_id,
             provider_code, provider_text, recorded_at_ms, tenant)
           SELECT call_id, client_reference, $2, 0, provider, provider_call_id, '', '', $3, tenant
           FROM calls WHERE call_id = $1`,
          [callId, CallState.ANSWERED, NOW + 2],
        );
      await a.query("BEGIN");
      await b.query("BEGIN");
      // Drawn a, b, a, b: each transaction's events interleave with the other's.
      await insert(a, "batch-0");
      await insert(b, "batch-1");
      await insert(a, "batch-2");
      await insert(b, "batch-3");
      await b.query("COMMIT");
      await a.query("COMMIT");
    } finally {
      a.release();
      b.release();
    }
    const { rows } = await store.pool.query<{ writers: number; settlers: number; unsettled: number }>(
      `SELECT count(DISTINCT xact_id) AS writers, count(DISTINCT xmin::text) AS settlers,
              count(*) FILTER (WHERE NOT settled) AS unsettled
       FROM events WHERE state = $1`,
      [CallState.ANSWERED],
    );
    expect(rows[0]).toEqual({ writers: 2, settlers: 2, unsettled: 0 });
  });
});
