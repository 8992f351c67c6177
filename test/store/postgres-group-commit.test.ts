/**
 * Group commit on PostgreSQL (src/store/postgres/group-commit.ts): writes submitted
 * together share one transaction, in submission order; every promise settles after the
 * COMMIT that holds it; a failing item fails alone. Group membership is observed through
 * the onCommit hook and a held COMMIT, never through timing.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import type { PostgresStoreOptions } from "../../src/store/postgres/postgres-store.js";
import { LimitExceeded, type NewCall } from "../../src/store/store.js";
import { testKeyring } from "../support/keyring.js";
import { adminQuery, createTestDatabase, describePostgres, type TestDatabase } from "../support/postgres.js";

const NOW = 1_700_000_000_000;

function newCall(callId: string, extra: Partial<NewCall> = {}): NewCall {
  return {
    callId,
    provider: "sandbox",
    phoneMasked: "+86138****0000",
    playTimes: 1,
    clientReference: `ref-${callId}`,
    metadata: {},
    idempotencyKey: "",
    requestHash: "k1:h",
    nowMs: NOW,
    ...extra,
  };
}

function push(callId: string, key: string, state: CallState, providerCode = ""): InboundEvent {
  return {
    dedupeKey: key,
    providerCallId: "",
    callId,
    state,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode,
    providerText: "",
    occurredAtMs: undefined,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describePostgres("postgres group commit", () => {
  let db: TestDatabase;
  let groups: number[];
  const open: PostgresStore[] = [];
  const openStore = async (options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => {
    const store = await createPostgresStore({
      connectionString: db.url,
      keyring: testKeyring(),
      ...options,
      // One group at a time unless a test says otherwise, so group shapes are exact.
      groupCommit: { maxGroups: 1, onCommit: (n) => groups.push(n), ...options.groupCommit },
    });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    db = await createTestDatabase();
    groups = [];
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await db.drop();
  });

  it("commits concurrent writes together and settles none of them before that COMMIT", async () => {
    const hold = { reached: deferred(), release: deferred() };
    const store = await openStore({
      async beforeCommit({ method }) {
        if (method !== "createCall") return;
        hold.reached.resolve();
        await hold.release.promise;
      },
    });
    const settled: string[] = [];
    const writes = ["a", "b", "c"].map((id) => store.createCall(newCall(id)).then(() => settled.push(id)));
    await hold.reached.promise;
    // Their transaction is open, just before COMMIT: nothing acknowledged yet.
    expect(settled).toEqual([]);
    const outside = await adminQuery<{ n: number }>("SELECT COUNT(*)::int AS n FROM calls", [], db.url);
    expect(outside).toEqual([{ n: 0 }]);
    hold.release.resolve();
    await Promise.all(writes);
    expect(groups).toEqual([3]);
    expect(settled.sort()).toEqual(["a", "b", "c"]);
  });

  it("counts limits exactly inside one group: of five Sends at a limit of three, the first three pass", async () => {
    const store = await openStore();
    const limits = [{ key: "n:x", max: 3, windowMs: 60_000, reason: "NUMBER_HOURLY_LIMIT", metadata: {} }];
    const results = await Promise.allSettled(
      ["a", "b", "c", "d", "e"].map((id) => store.createCall(newCall(id, { limits }))),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
    for (const r of results.slice(3)) {
      expect(r.status === "rejected" && r.reason instanceof LimitExceeded).toBe(true);
    }
    // A refusal writes nothing, so it is an answer, not a failure: all five share one
    // commit (no rollback, no group split into three transactions).
    expect(groups).toEqual([5]);
    expect(await store.getCall("d")).toBeUndefined();
    expect(await store.getCall("c")).toMatchObject({ state: CallState.PENDING });
  });

  it("answers a key reused inside one group as a replay of the first", async () => {
    const store = await openStore();
    const [first, second] = await Promise.all([
      store.createCall(newCall("k1", { idempotencyKey: "same" })),
      store.createCall(newCall("k2", { idempotencyKey: "same" })),
    ]);
    expect(groups).toEqual([2]);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, call: { callId: "k1" } });
  });

  it("one failing item fails alone; the others in its group commit, in order", async () => {
    const seed = await openStore();
    await Promise.all(["one", "two"].map((id) => seed.createCall(newCall(id))));
    // A real SQL error raised by the server in the middle of an item, after that item
    // already inserted an event.
    await adminQuery(
      `CREATE FUNCTION fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.provider_code = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`,
      [],
      db.url,
    );
    await adminQuery("CREATE TRIGGER fail_boom BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_boom()", [], db.url);
    groups = [];

    const results = await Promise.allSettled([
      seed.ingest("sandbox", [push("one", "1d", CallState.DIALING)], NOW + 1),
      seed.ingest("sandbox", [push("two", "2d", CallState.DIALING), push("two", "2r", CallState.RINGING, "boom")], NOW + 1),
      seed.recordSendResult("nobody", { kind: "rejected", reason: FailureReason.UNKNOWN, providerCode: "", providerText: "" }, NOW + 1),
      seed.createCall(newCall("three")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(String(results[1]?.status === "rejected" && results[1].reason)).toMatch(/injected failure/);
    // Rerun in order: the items before each failure as a group (here one), each failing
    // item alone (no commit), the rest after it.
    expect(groups).toEqual([1, 1]);

    expect(await seed.getCall("one")).toMatchObject({ state: CallState.DIALING });
    // Nothing of the failed batch: not its first event, not its dedupe rows.
    expect(await seed.getCall("two")).toMatchObject({ state: CallState.PENDING });
    expect(await seed.listEvents({ callId: "two" }, 0, 10)).toEqual([]);
    expect(await seed.getCall("three")).toMatchObject({ state: CallState.PENDING });
    const keys = await adminQuery<{ dedupe_key: string }>("SELECT dedupe_key FROM inbound ORDER BY dedupe_key", [], db.url);
    expect(keys.map((k) => k.dedupe_key)).toEqual(["1d"]);
  });

  it("runs a full queue at once, in groups of at most maxItems", async () => {
    const store = await openStore({ groupCommit: { maxItems: 2 } });
    await Promise.all(["a", "b", "c", "d", "e"].map((id) => store.createCall(newCall(id))));
    expect(groups).toEqual([2, 2, 1]);
  });

  it("spreads what runs one by one over the free connections", async () => {
    const store = await openStore({ groupCommit: { maxGroups: 4 } });
    // An idempotency key makes createCall an item of its own (no batch).
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
    await Promise.all(ids.map((id) => store.createCall(newCall(id, { idempotencyKey: `key-${id}` }))));
    expect(groups).toEqual([2, 2, 2, 2]);
  });

  it("keeps what batches in one group: a batch costs the same round trips for 2 items or 8", async () => {
    const store = await openStore({ groupCommit: { maxGroups: 4 } });
    await Promise.all(["a", "b", "c", "d", "e", "f", "g", "h"].map((id) => store.createCall(newCall(id))));
    expect(groups).toEqual([8]);
  });

  it("records several Send answers as one batch, each with its own events and parked pushes", async () => {
    const store = await openStore();
    await Promise.all(["a", "b", "c"].map((id) => store.createCall(newCall(id))));
    // A callback for b's provider id arrives before b's answer names it: parked.
    const early = { ...push("", "pb-dialing", CallState.DIALING), callId: undefined, providerCallId: "pc-b" };
    expect(await store.ingest("sandbox", [early], NOW + 1)).toMatchObject({ parked: 1 });
    groups = [];
    const accepted = (pc: string) => ({ kind: "accepted" as const, providerCallId: pc, providerCode: "0", providerText: "" });
    const [a, b, c] = await Promise.all([
      store.recordSendResult("a", accepted("pc-a"), NOW + 2),
      store.recordSendResult("b", accepted("pc-b"), NOW + 2),
      store.recordSendResult("c", { kind: "rejected", reason: FailureReason.UNKNOWN, providerCode: "9", providerText: "" }, NOW + 2),
    ]);
    expect(groups).toEqual([3]);
    expect(a?.events.map((e) => [e.callId, e.state])).toEqual([["a", CallState.ACCEPTED]]);
    expect(b?.events.map((e) => [e.callId, e.state])).toEqual([
      ["b", CallState.ACCEPTED],
      ["b", CallState.DIALING],
    ]);
    expect(c?.events.map((e) => [e.callId, e.state])).toEqual([["c", CallState.FAILED]]);
    expect(b?.call).toMatchObject({ state: CallState.DIALING, providerCallId: "pc-b" });
    expect(await store.getCall("a")).toMatchObject({ state: CallState.ACCEPTED, providerCallId: "pc-a" });
    expect((await store.listAttempts("c")).map((t) => t.outcome)).toEqual(["rejected"]);
    // Each answer comes with its call's attempts as the batch left them: what a read finds.
    for (const [id, applied] of [["a", a], ["b", b], ["c", c]] as const) {
      expect(applied?.attempts).toBeDefined();
      expect(applied?.attempts).toEqual(await store.listAttempts(id));
    }
    // The adopted push now points at its event.
    const rows = await adminQuery<{ disposition: string; applied: boolean }>(
      "SELECT disposition, applied_sequence IS NOT NULL AS applied FROM inbound WHERE dedupe_key = 'pb-dialing'",
      [],
      db.url,
    );
    expect(rows).toEqual([{ disposition: "applied", applied: true }]);
  });

  it("a batch with an answer for an unknown call fails that answer alone", async () => {
    const store = await openStore();
    await Promise.all(["a", "b"].map((id) => store.createCall(newCall(id))));
    const accepted = (pc: string) => ({ kind: "accepted" as const, providerCallId: pc, providerCode: "0", providerText: "" });
    const results = await Promise.allSettled([
      store.recordSendResult("a", accepted("pc-a"), NOW + 2),
      store.recordSendResult("nobody", accepted("pc-x"), NOW + 2),
      store.recordSendResult("b", accepted("pc-b"), NOW + 2),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await store.getCall("a")).toMatchObject({ state: CallState.ACCEPTED });
    expect(await store.getCall("b")).toMatchObject({ state: CallState.ACCEPTED });
  });

  it("stores several webhook requests as one batch, each answered with what its own pushes did", async () => {
    const store = await openStore();
    await Promise.all(["a", "b", "c"].map((id) => store.createCall(newCall(id))));
    const accepted = (pc: string) => ({ kind: "accepted" as const, providerCallId: pc, providerCode: "0", providerText: "" });
    await Promise.all(["a", "b", "c"].map((id) => store.recordSendResult(id, accepted(`pc-${id}`), NOW + 1)));
    groups = [];
    const byPc = (pc: string, key: string, state: CallState) => ({ ...push("", key, state), callId: undefined, providerCallId: pc });
    const [a, b, c, again, unknown] = await Promise.all([
      store.ingest("sandbox", [byPc("pc-a", "a-ring", CallState.RINGING)], NOW + 2),
      store.ingest("sandbox", [byPc("pc-b", "b-ans", CallState.ANSWERED), byPc("pc-b", "b-ring", CallState.RINGING)], NOW + 2),
      store.ingest("sandbox", [push("c", "c-dial", CallState.DIALING)], NOW + 2),
      store.ingest("sandbox", [byPc("pc-x", "a-ring", CallState.RINGING)], NOW + 2),
      store.ingest("sandbox", [byPc("pc-nobody", "n-ring", CallState.RINGING)], NOW + 2),
    ]);
    expect(groups).toEqual([5]);
    expect(a).toMatchObject({ duplicates: 0, stale: 0, parked: 0 });
    expect(a?.appended.map((e) => [e.callId, e.state])).toEqual([["a", CallState.RINGING]]);
    // RINGING after ANSWERED in one request: kept for audit, not applied.
    expect(b).toMatchObject({ duplicates: 0, stale: 1, parked: 0 });
    expect(b?.appended.map((e) => [e.callId, e.state])).toEqual([["b", CallState.ANSWERED]]);
    expect(c?.appended.map((e) => [e.callId, e.state])).toEqual([["c", CallState.DIALING]]);
    // The same dedupe key as an earlier request of the batch: a duplicate, nothing stored.
    expect(again).toEqual({ appended: [], duplicates: 1, stale: 0, parked: 0 });
    expect(unknown).toEqual({ appended: [], duplicates: 0, stale: 0, parked: 1 });
    expect(await store.getCall("b")).toMatchObject({ state: CallState.ANSWERED });
  });

  it("settles every pending write before close", async () => {
    const store = await openStore();
    const pending = store.createCall(newCall("late"));
    await store.close();
    await expect(pending).resolves.toMatchObject({ created: true });
    const reopened = await openStore();
    expect(await reopened.getCall("late")).toMatchObject({ state: CallState.PENDING });
  });
});
