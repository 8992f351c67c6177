/**
 * Outcome fallback across replicas: the same busy report delivered to two replicas at
 * once (two stores, two pools, one database) decides one next attempt, and the two
 * replicas' dispatchers claiming it at once place it once.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { testKeyring } from "../support/keyring.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../support/postgres.js";

const NOW = 1_700_000_000_000;

describePostgres("PostgreSQL: outcome fallback on two replicas", () => {
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

  it("decides and places the next attempt once when both replicas get the same busy report", async () => {
    const [a, b] = stores as [PostgresStore, PostgresStore];
    for (let round = 0; round < 10; round++) {
      const callId = `call-${round}`;
      await a.createCall({
        callId,
        provider: "alpha",
        route: { providers: ["alpha", "beta"], fallback: { on: [FailureReason.BUSY], maxAttempts: 2, deadlineAtMs: NOW + 60_000 } },
        sealedRequest: "s1:x",
        phoneMasked: "+86*******0001",
        playTimes: 2,
        clientReference: "ref",
        metadata: {},
        idempotencyKey: "",
        requestHash: "k1:h",
        nowMs: NOW,
      });
      await a.recordSendResult(callId, { kind: "accepted", providerCallId: `pc-${round}`, providerCode: "OK", providerText: "" }, NOW + 1);
      const busy = {
        dedupeKey: `busy-${round}`,
        providerCallId: `pc-${round}`,
        callId: undefined,
        state: CallState.FAILED,
        failureReason: FailureReason.BUSY,
        providerCode: "DH:0001",
        providerText: "busy",
        occurredAtMs: undefined,
      };
      const ingests = await Promise.all([a.ingest("alpha", [busy], NOW + 2), b.ingest("alpha", [busy], NOW + 2)]);
      expect(ingests.flatMap((r) => r.appended.map((e) => e.continues))).toEqual([true]);
      expect((await a.dueFallbacks(100, NOW + 10)).filter((d) => d.callId === callId)).toEqual([{ callId, attempt: 2 }]);
      const claims = await Promise.all([a.startFallback(callId, 2, "beta", NOW + 3), b.startFallback(callId, 2, "beta", NOW + 3)]);
      expect(claims.map((c) => c.claimed).sort()).toEqual([false, true]);
      const attempts = await b.listAttempts(callId);
      expect(attempts.map((t) => [t.attempt, t.provider])).toEqual([
        [1, "alpha"],
        [2, "beta"],
      ]);
    }
  });
});
