/**
 * Deadline expiry and retention across replicas: two stores (two pools, as two
 * processes would have) on one database sweep the same calls at the same time.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import { LOCK_NAMESPACE, RETENTION_LOCK } from "../../src/store/postgres/constants.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { testKeyring } from "../support/keyring.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../support/postgres.js";

const OLD = 1_600_000_000_000;
const TEXT = "no final status arrived before the call deadline";

describePostgres("PostgreSQL: two replicas sweeping one database", () => {
  let db: TestDatabase;
  let stores: PostgresStore[];

  beforeEach(async () => {
    db = await createTestDatabase();
    stores = [];
    for (let i = 0; i < 2; i++) {
      stores.push(await createPostgresStore({ connectionString: db.url, keyring: testKeyring(), poolSize: 3, applicationName: `replica-${i}` }));
    }
  });
  afterEach(async () => {
    for (const store of stores) await store.close();
    await db.drop();
  });

  async function seed(count: number, end: boolean): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const callId = `call-${String(i).padStart(3, "0")}`;
      await stores[0]!.createCall({
        callId,
        provider: "sandbox",
        phoneMasked: "+86*******2222",
        playTimes: 1,
        clientReference: "ref",
        metadata: {},
        idempotencyKey: "",
        requestHash: "h",
        nowMs: OLD,
      });
      const result = end
        ? { kind: "rejected" as const, reason: FailureReason.BUSY, providerCode: "x", providerText: "y" }
        : { kind: "accepted" as const, providerCallId: `pc-${i}`, providerCode: "0", providerText: "ok" };
      await stores[0]!.recordSendResult(callId, result, OLD + 1);
      ids.push(callId);
    }
    return ids;
  }

  // Writers run in parallel (no fleet-wide event-order lock): the claim is the
  // conditional update alone.
  it("records each expiry exactly once when both replicas sweep at once", async () => {
    const ids = await seed(40, false);
    const expired: EventRecord[] = [];
    for (let round = 0; round < 100; round++) {
      const batches = await Promise.all(
        stores.map((store) =>
          store.expireCalls({ createdBeforeMs: OLD + 10, nowMs: OLD + 20, providerText: TEXT, limit: 7 }),
        ),
      );
      expired.push(...batches.flat());
      if (batches.every((b) => b.length === 0)) break;
    }
    expect(expired.map((e) => e.callId).sort()).toEqual(ids);
    for (const callId of ids) {
      const events = await stores[1]!.listEvents({ callId }, 0, 10);
      expect(events.map((e) => [e.state, e.provisional])).toEqual([
        [CallState.ACCEPTED, false],
        [CallState.FAILED, true],
      ]);
    }
  });

  it("deletes each old call once, one replica at a time", async () => {
    const ids = await seed(30, true);
    let calls = 0;
    let events = 0;
    for (let round = 0; round < 200; round++) {
      const results = await Promise.all(
        stores.map((store) => store.prune({ callsBeforeMs: OLD + 10, parkedBeforeMs: OLD + 10, limit: 4 })),
      );
      for (const r of results) {
        calls += r.calls;
        events += r.events;
      }
      if (results.every((r) => !r.busy && r.calls === 0)) break;
    }
    expect(calls).toBe(ids.length);
    expect(events).toBe(ids.length);
    for (const callId of ids) expect(await stores[1]!.getCall(callId)).toBeUndefined();
  });

  it("leaves the round to the replica holding the retention lock", async () => {
    await seed(3, true);
    const holder = await stores[0]!.pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1, $2)", [LOCK_NAMESPACE, RETENTION_LOCK]);
      const r = await stores[1]!.prune({ callsBeforeMs: OLD + 10, parkedBeforeMs: OLD + 10, limit: 10 });
      expect(r).toEqual({ calls: 0, events: 0, pushes: 0, parked: 0, busy: true });
      expect(await stores[1]!.getCall("call-000")).toBeDefined();
      await holder.query("SELECT pg_advisory_unlock($1, $2)", [LOCK_NAMESPACE, RETENTION_LOCK]);
    } finally {
      holder.release();
    }
    const r = await stores[1]!.prune({ callsBeforeMs: OLD + 10, parkedBeforeMs: OLD + 10, limit: 10 });
    expect(r).toMatchObject({ calls: 3, busy: false });
  });
});
