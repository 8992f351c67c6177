import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import {
  applyMigrations,
  createSqliteStore,
  MIGRATIONS,
  openDatabase,
} from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { describeAttemptsContract } from "./attempts-contract.js";
import { describeNotifyStoreContract } from "./notify-contract.js";
import { describeStoreContract } from "./store-contract.js";
import { describeStoreProperties } from "./store-properties.js";
import { createKeyring } from "../../src/secrets/keyring.js";
import { testKeyring } from "../support/keyring.js";
import { describeTenantContract } from "./store-tenants-contract.js";
import { describeVerificationContract } from "./verification-contract.js";

describeStoreContract("sqlite :memory:", async () => createSqliteStore({ path: ":memory:", keyring: testKeyring() }));
describeNotifyStoreContract("sqlite :memory:", async () => createSqliteStore({ path: ":memory:", keyring: testKeyring() }));
describeAttemptsContract("sqlite :memory:", async () => createSqliteStore({ path: ":memory:", keyring: testKeyring() }));
describeVerificationContract("sqlite :memory:", async (secret) => createSqliteStore({ path: ":memory:", keyring: createKeyring(secret) }), {
  replicas: false,
});

// One file for the whole suite (reopened per test, and within the restart test).
const tenantsDir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-tenants-"));
// One process owns a SQLite file, so there are no "two replicas" to test here.
describeTenantContract(
  "sqlite file",
  async () => createSqliteStore({ path: path.join(tenantsDir, "db.sqlite"), keyring: testKeyring() }),
  { replicas: false },
);

const NOW = 1_700_000_000_000;

function push(key: string, state: CallState, providerCode = "ok"): InboundEvent {
  return {
    dedupeKey: key,
    providerCallId: "pc-1",
    callId: undefined,
    state,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode,
    providerText: "",
    occurredAtMs: undefined,
  };
}

async function seedAcceptedCall(store: Store): Promise<void> {
  await store.createCall({
    callId: "call-1",
    provider: "sandbox",
    phoneMasked: "+86138****0000",
    playTimes: 1,
    clientReference: "ref-1",
    metadata: { k: "v" },
    idempotencyKey: "key-1",
    // Keyed, as Send stores it: a bare value would be re-keyed as a legacy row at reopen.
    requestHash: "k1:h",
    nowMs: NOW,
  });
  await store.recordSendResult(
    "call-1",
    { kind: "accepted", providerCallId: "pc-1", providerCode: "OK", providerText: "" },
    NOW + 1,
  );
}

describe("sqlite store on a file", () => {
  let dir: string;
  let file: string;
  const open: Store[] = [];

  const openStore = (): Store => {
    const store = createSqliteStore({ path: file, keyring: testKeyring() });
    open.push(store);
    return store;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-sqlite-"));
    file = path.join(dir, "nested", "deeper", "voicecode.db");
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates parent directories and sets the durability pragmas", () => {
    const db = openDatabase({ path: file });
    try {
      expect(fs.existsSync(file)).toBe(true);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("synchronous", { simple: true })).toBe(2); // FULL
      expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
      // Never wait for a lock (it would block the event loop); see sqlite-ownership.test.ts.
      expect(db.pragma("busy_timeout", { simple: true })).toBe(0);
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it("keeps calls and events across close and reopen, and sequences continue", async () => {
    const first = openStore();
    await seedAcceptedCall(first);
    await first.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 2);
    const call = await first.getCall("call-1");
    const events = await first.listEvents({ callId: "call-1" }, 0, 10);
    await first.close();

    const second = openStore();
    expect(await second.getCall("call-1")).toEqual(call);
    expect(await second.listEvents({ callId: "call-1" }, 0, 10)).toEqual(events);
    // Dedupe state survives too: a provider retrying across our restart is not re-applied.
    const retry = await second.ingest("sandbox", [push("d", CallState.DIALING)], NOW + 3);
    expect(retry.duplicates).toBe(1);
    const again = await second.createCall({
      callId: "call-2",
      provider: "sandbox",
      phoneMasked: "",
      playTimes: 1,
      clientReference: "ref-1",
      metadata: {},
      idempotencyKey: "key-1",
      requestHash: "k1:h",
      nowMs: NOW + 4,
    });
    expect(again).toMatchObject({ created: false, sameRequest: true });

    const next = await second.ingest("sandbox", [push("r", CallState.RINGING)], NOW + 5);
    const last = events.at(-1)?.sequence ?? Number.POSITIVE_INFINITY;
    expect(next.appended[0]?.sequence).toBeGreaterThan(last);
  });

  it("migrates a new file once and does nothing on an up-to-date one", () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      expect(applyMigrations(db)).toBe(MIGRATIONS.length);
      expect(applyMigrations(db)).toBe(0);
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
    // Opening the already-migrated file through the store must not re-run step 1
    // (its CREATE TABLE would throw).
    const store = openStore();
    expect(store).toBeDefined();
  });

  it("rolls back a failed migration step entirely", () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      const broken = ["CREATE TABLE a (x INTEGER);", "CREATE TABLE b (x INTEGER); SELECT * FROM nope;"];
      expect(() => applyMigrations(db, broken)).toThrow(/nope/);
      expect(db.pragma("user_version", { simple: true })).toBe(0);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      expect(tables).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("refuses a file from a newer schema version", () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => createSqliteStore({ path: file, keyring: testKeyring() })).toThrow(/newer than this build supports/);
  });

  it("keeps nothing of a batch when a later push fails to store", async () => {
    const seeded = openStore();
    await seedAcceptedCall(seeded);
    await seeded.close();
    // A real SQL error in the middle of the batch, raised by the engine itself: a trigger,
    // added while the store is closed (the file belongs to one connection while open),
    // aborts the insert of the second event.
    const withAdmin = (sql: string): unknown => {
      const admin = new Database(file);
      try {
        admin.exec(sql);
        return admin.prepare("SELECT COUNT(*) AS n FROM inbound").get();
      } finally {
        admin.close();
      }
    };
    withAdmin(`CREATE TRIGGER fail_boom BEFORE INSERT ON events
      WHEN NEW.provider_code = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);

    const batch = [
      push("d", CallState.DIALING),
      push("r", CallState.RINGING, "boom"),
      push("a", CallState.ANSWERED),
    ];
    const store = openStore();
    await expect(store.ingest("sandbox", batch, NOW + 2)).rejects.toThrow(/injected failure/);

    expect(await store.getCall("call-1")).toMatchObject({
      state: CallState.ACCEPTED,
      updatedAtMs: NOW + 1,
    });
    expect((await store.listEvents({ callId: "call-1" }, 0, 10)).map((e) => e.state)).toEqual([
      CallState.ACCEPTED,
    ]);
    await store.close();
    expect(withAdmin("DROP TRIGGER fail_boom")).toEqual({ n: 0 });

    // The provider's retry of the same batch is therefore not mistaken for duplicates.
    const retry = await openStore().ingest("sandbox", batch, NOW + 3);
    expect(retry.duplicates).toBe(0);
    expect(retry.appended.map((e) => e.state)).toEqual([
      CallState.DIALING,
      CallState.RINGING,
      CallState.ANSWERED,
    ]);
  });

  it("closes idempotently and fails calls made after close", async () => {
    const store = openStore();
    await store.close();
    await store.close();
    await expect(store.getCall("call-1")).rejects.toThrow();
  });
});

describeStoreProperties("sqlite :memory:", async () => createSqliteStore({ path: ":memory:", keyring: testKeyring() }));

describe("sqlite store: a Send's answer", () => {
  it("carries the call's attempts as its write left them, except when a failover follows", async () => {
    const store = createSqliteStore({ path: ":memory:", keyring: testKeyring() });
    try {
      const base = { provider: "alpha", phoneMasked: "+86138****0000", playTimes: 1, clientReference: "r", metadata: {}, idempotencyKey: "", requestHash: "k1:h", nowMs: NOW };
      await store.createCall({ ...base, callId: "a" });
      const refused = { kind: "rejected", reason: FailureReason.INSUFFICIENT_BALANCE, providerCode: "NoBalance", providerText: "" } as const;
      const failedOver = await store.recordSendResult("a", refused, NOW + 1, { attempt: 1, next: "beta" });
      expect(failedOver.attempts).toBeUndefined();
      const accepted = await store.recordSendResult("a", { kind: "accepted", providerCallId: "pc-a", providerCode: "0", providerText: "" }, NOW + 2, { attempt: 2 });
      expect(accepted.attempts).toHaveLength(2);
      expect(accepted.attempts).toEqual(await store.listAttempts("a"));
    } finally {
      await store.close();
    }
  });
});
