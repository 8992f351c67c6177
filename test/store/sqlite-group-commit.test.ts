/**
 * Group commit on SQLite (src/store/sqlite/group-commit.ts): writes submitted together
 * share one transaction, each in its own savepoint; every promise settles after the
 * commit that holds it. Group membership is observed through the onCommit hook, never
 * through timing.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { createGroupWriter } from "../../src/store/sqlite/group-commit.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { LimitExceeded, type NewCall, type Store } from "../../src/store/store.js";
import { testKeyring } from "../support/keyring.js";

const NOW = 1_700_000_000_000;
const root = path.join(import.meta.dirname, "..", "..");
const tsxLoader = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

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

describe("sqlite group commit", () => {
  let dir: string;
  let file: string;
  let groups: number[];
  /** Groups rolled back because an item threw, and run again item by item. */
  let isolated: number[];
  const open: Store[] = [];
  const openStore = (maxItems?: number): Store => {
    const store = createSqliteStore({
      path: file,
      keyring: testKeyring(),
      groupCommit: { maxItems, onCommit: (n) => groups.push(n), onIsolate: (n) => isolated.push(n) },
    });
    open.push(store);
    return store;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-group-"));
    file = path.join(dir, "db.sqlite");
    groups = [];
    isolated = [];
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("counts limits exactly inside one group: of five Sends at a limit of three, three pass", async () => {
    const store = openStore();
    const limits = [{ key: "n:x", max: 3, windowMs: 60_000, reason: "NUMBER_HOURLY_LIMIT", metadata: {} }];
    const results = await Promise.allSettled(
      ["a", "b", "c", "d", "e"].map((id) => store.createCall(newCall(id, { limits }))),
    );
    expect(groups).toEqual([5]);
    // A refusal writes nothing: an answer, not a failure, so the group ran once.
    expect(isolated).toEqual([]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
    for (const r of results.slice(3)) {
      expect(r.status === "rejected" && r.reason instanceof LimitExceeded).toBe(true);
    }
    expect(await store.getCall("d")).toBeUndefined();
    expect(await store.getCall("c")).toMatchObject({ state: CallState.PENDING });
  });

  it("answers a key reused inside one group as a replay of the first", async () => {
    const store = openStore();
    const [first, second] = await Promise.all([
      store.createCall(newCall("k1", { idempotencyKey: "same" })),
      store.createCall(newCall("k2", { idempotencyKey: "same" })),
    ]);
    expect(groups).toEqual([2]);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, call: { callId: "k1" } });
  });

  it("one failing item rolls back only its own writes; the others in its group commit", async () => {
    const seed = openStore();
    await Promise.all(["one", "two"].map((id) => seed.createCall(newCall(id))));
    await seed.close();
    // A real SQL error raised by the engine in the middle of an item, after that item
    // already inserted an event: a trigger added while the store is closed.
    const admin = new Database(file);
    admin.exec(`CREATE TRIGGER fail_boom BEFORE INSERT ON events
      WHEN NEW.provider_code = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    admin.close();
    groups = [];

    const store = openStore();
    const results = await Promise.allSettled([
      store.ingest("sandbox", [push("one", "1d", CallState.DIALING)], NOW + 1),
      store.ingest("sandbox", [push("two", "2d", CallState.DIALING), push("two", "2r", CallState.RINGING, "boom")], NOW + 1),
      store.recordSendResult("nobody", { kind: "rejected", reason: FailureReason.UNKNOWN, providerCode: "", providerText: "" }, NOW + 1),
      store.createCall(newCall("three")),
    ]);
    expect(groups).toEqual([4]);
    expect(isolated).toEqual([4]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(String(results[1]?.status === "rejected" && results[1].reason)).toMatch(/injected failure/);

    expect(await store.getCall("one")).toMatchObject({ state: CallState.DIALING });
    // Nothing of the failed batch: not its first event, not its dedupe rows.
    expect(await store.getCall("two")).toMatchObject({ state: CallState.PENDING });
    expect(await store.listEvents({ callId: "two" }, 0, 10)).toEqual([]);
    expect(await store.getCall("three")).toMatchObject({ state: CallState.PENDING });
    await store.close();
    const check = new Database(file);
    expect(check.prepare("SELECT dedupe_key FROM inbound ORDER BY dedupe_key").pluck().all()).toEqual(["1d"]);
    check.close();
  });

  it("keeps the savepoints' journal in memory, and still undoes one item of a group past its 64 KiB spill size", async () => {
    const db = new Database(file);
    db.exec("CREATE TABLE t (n INTEGER, pad TEXT)");
    const writer = createGroupWriter(db, { onCommit: (n) => groups.push(n) });
    // 0 = default (a temporary file), 2 = memory.
    expect(db.pragma("temp_store", { simple: true })).toBe(2);
    const insert = db.prepare("INSERT INTO t VALUES (?, ?)");
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, n) =>
        writer.submit(() => {
          insert.run(n, "x".repeat(1000));
          if (n === 150) throw new Error("item 150 fails after its insert");
        }),
      ),
    );
    expect(groups).toEqual([200]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    const kept = db.prepare("SELECT n FROM t ORDER BY n").pluck().all();
    db.close();
    expect(kept).toHaveLength(199);
    expect(kept).not.toContain(150);
  });

  it("runs a group's items once when none throws; when one does, again, each in a savepoint, in one commit", async () => {
    const db = new Database(file);
    db.exec("CREATE TABLE t (n INTEGER)");
    const writer = createGroupWriter(db, { onCommit: (n) => groups.push(n) });
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const runs = new Map<number, number>();
    const item = (n: number, fails = false) =>
      writer.submit(() => {
        runs.set(n, (runs.get(n) ?? 0) + 1);
        insert.run(n);
        if (fails) throw new Error(`item ${n} fails after its insert`);
        return n;
      });
    expect(await Promise.all([item(1), item(2), item(3)])).toEqual([1, 2, 3]);
    expect([...runs.values()]).toEqual([1, 1, 1]);
    runs.clear();
    const settled = await Promise.allSettled([item(4), item(5, true), item(6)]);
    expect(settled.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    // The first pass rolled back at item 5 (item 6 never ran in it); the second ran all three.
    expect(Object.fromEntries(runs)).toEqual({ 4: 2, 5: 2, 6: 1 });
    // Alone in its group, a throwing item is not run again.
    runs.clear();
    await expect(item(7, true)).rejects.toThrow(/item 7/);
    expect(Object.fromEntries(runs)).toEqual({ 7: 1 });
    expect(groups).toEqual([3, 3]);
    expect(db.prepare("SELECT n FROM t ORDER BY n").pluck().all()).toEqual([1, 2, 3, 4, 6]);
    db.close();
  });

  it("runs a full queue at once, in groups of at most maxItems", async () => {
    const store = openStore(2);
    await Promise.all(["a", "b", "c", "d", "e"].map((id) => store.createCall(newCall(id))));
    expect(groups).toEqual([2, 2, 1]);
  });

  it("settles every pending write before close", async () => {
    const store = openStore();
    const pending = store.createCall(newCall("late"));
    await store.close();
    await expect(pending).resolves.toMatchObject({ created: true });
    const reopened = openStore();
    expect(await reopened.getCall("late")).toMatchObject({ state: CallState.PENDING });
  });

  it("resolves a write only once it is durable: a process killed in the resolution keeps it", async () => {
    const child = spawn(
      process.execPath,
      ["--import", tsxLoader, path.join(import.meta.dirname, "fixtures", "sqlite-crash-child.ts"), file],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });
    const store = openStore();
    expect(await store.getCall("crash-1")).toMatchObject({ state: CallState.DIALING });
    expect((await store.listEvents({ callId: "crash-1" }, 0, 10)).map((e) => e.state)).toEqual([CallState.DIALING]);
  });
});
