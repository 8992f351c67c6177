/**
 * The SQLite store on its own thread (src/store/sqlite/thread): every contract the
 * in-process store keeps, each store on a fresh file, through the thread and back; then
 * what only the thread adds (opening, closing, errors crossing).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { createKeyring } from "../../src/secrets/keyring.js";
import { LimitExceeded, type NewCall } from "../../src/store/store.js";
import { CheckResult } from "../../src/store/verifications.js";
import { codeHash } from "../../src/verify/code-hash.js";
import { spawnStoreThread } from "../../src/store/sqlite/thread/spawn.js";
import { openSqliteThread } from "../../src/store/sqlite/thread/threaded-store.js";
import { describeAttemptsContract } from "./attempts-contract.js";
import { describeNotifyStoreContract } from "./notify-contract.js";
import { describeStoreContract } from "./store-contract.js";
import { describeStoreProperties } from "./store-properties.js";
import { describeTenantContract } from "./store-tenants-contract.js";
import { describeVerificationContract } from "./verification-contract.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-thread-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `db-${n++}.sqlite`);
const open = (secret: Buffer = randomBytes(32)) => openSqliteThread({ path: file(), secret });

describeStoreContract("sqlite thread", () => open());
describeNotifyStoreContract("sqlite thread", () => open());
describeAttemptsContract("sqlite thread", () => open());
describeVerificationContract("sqlite thread", (secret) => open(secret), { replicas: false });
describeStoreProperties("sqlite thread", () => open());
// One file for the whole suite, reopened per test (its restart test included).
const tenantsFile = file();
describeTenantContract("sqlite thread", () => openSqliteThread({ path: tenantsFile, secret: randomBytes(32) }), {
  replicas: false,
});

const NOW = 1_700_000_000_000;
const call = (overrides: Partial<NewCall> = {}): NewCall => ({
  callId: `call-${n++}`,
  provider: "sandbox",
  phoneMasked: "+86138****0000",
  playTimes: 1,
  clientReference: "ref",
  metadata: { k: "v" },
  idempotencyKey: "",
  requestHash: "h",
  nowMs: NOW,
  ...overrides,
});

describe("SQLite store thread", () => {
  it("refuses to open a file another store owns, with the owner's reason", async () => {
    const shared = file();
    const owner = await openSqliteThread({ path: shared, secret: randomBytes(32) });
    try {
      await expect(openSqliteThread({ path: shared, secret: randomBytes(32) })).rejects.toThrow(/is in use by another process/);
    } finally {
      await owner.close();
    }
    // Closed, the file is free again.
    const next = await openSqliteThread({ path: shared, secret: randomBytes(32) });
    await next.close();
  });

  it("rebuilds LimitExceeded on this side, with its rule and retry time", async () => {
    const store = await open();
    try {
      const rule = { key: "n:x", max: 1, windowMs: 60_000, reason: "NUMBER_HOURLY_LIMIT", metadata: { limit: "1" } };
      await store.createCall(call({ limits: [rule] }));
      const refused = await store.createCall(call({ limits: [rule], nowMs: NOW + 1_000 })).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LimitExceeded);
      expect(refused).toMatchObject({ rule, retryAfterMs: 59_000, message: "limit NUMBER_HOURLY_LIMIT reached" });
    } finally {
      await store.close();
    }
  });

  it("answers every call made before close, then refuses new ones", async () => {
    const store = await open();
    const writes = [call(), call(), call()].map((c) => store.createCall(c));
    const closed = store.close();
    expect((await Promise.all(writes)).map((r) => r.created)).toEqual([true, true, true]);
    await closed;
    await expect(store.getCall("call-0")).rejects.toThrow(/sqlite store thread exited/);
    // Closing twice is harmless.
    await store.close();
  });

  it("a thread that dies fails every call in flight and later, and says so once", async () => {
    const failures: Error[] = [];
    // Opens like the real thread, then dies of an uncaught error on its first call.
    const dying = () =>
      new Worker(
        `const { parentPort } = require("node:worker_threads");
         parentPort.postMessage({ start: "ready" });
         parentPort.on("message", () => { throw new Error("boom in the thread"); });`,
        { eval: true },
      );
    const store = await openSqliteThread({ path: file(), secret: randomBytes(32), spawn: dying, onFailure: (e) => failures.push(e) });
    await expect(store.getCall("x")).rejects.toThrow(/sqlite store thread failed: boom in the thread/);
    await expect(store.createCall(call())).rejects.toThrow(/sqlite store thread failed/);
    expect(failures.map((e) => e.message)).toEqual(["sqlite store thread failed: boom in the thread"]);
    // Closing what is already gone is not a second failure.
    await store.close();
    expect(failures).toHaveLength(1);
  });

  it("answers a call for a method the store lacks with an error, and stays up", async () => {
    const worker = spawnStoreThread({ path: file(), secret: randomBytes(32), maxItems: undefined });
    const next = () => once(worker, "message").then(([m]) => m as Record<string, unknown>);
    try {
      expect(await next()).toEqual({ start: "ready" });
      worker.postMessage({ id: 1, method: "dropEverything", args: [] });
      expect(await next()).toMatchObject({ id: 1, ok: false, error: { message: "sqlite store thread: no method dropEverything" } });
      worker.postMessage({ id: 2, method: "getCall", args: ["nobody"] });
      expect(await next()).toEqual({ id: 2, ok: true, value: undefined });
      worker.postMessage({ id: 3, method: "close", args: [] });
      expect(await next()).toEqual({ id: 3, ok: true, value: undefined });
      await once(worker, "exit");
    } finally {
      await worker.terminate();
    }
  });

  it("compares Check codes under the keyring of the secret it was given, not another", async () => {
    const secret = randomBytes(32);
    const keyring = createKeyring(secret);
    const shared = file();
    const first = await openSqliteThread({ path: shared, secret });
    const callId = "verified-call";
    await first.createCall(
      call({ callId, verification: { codeHash: codeHash(keyring, callId, "482913"), expiresAtMs: NOW + 600_000, attempts: 5 } }),
    );
    await first.close();
    const check = { target: { tenant: "default", callId }, nowMs: NOW + 1, code: "482913" };
    // Under another secret the right code is a wrong one.
    const other = await openSqliteThread({ path: shared, secret: randomBytes(32) });
    const refused = await other.checkVerification(check);
    await other.close();
    expect(refused).toMatchObject({ result: CheckResult.WRONG_CODE, attemptsLeft: 4 });
    const same = await openSqliteThread({ path: shared, secret });
    try {
      expect(await same.checkVerification(check)).toMatchObject({ result: CheckResult.APPROVED, callId });
    } finally {
      await same.close();
    }
  });
});
