/**
 * An SQLite file belongs to one process: a second process (another voicecode, or any
 * program) is refused at once instead of sharing the write lock, since waiting on a lock
 * blocks the event loop (better-sqlite3 is synchronous). A process killed with SIGKILL
 * leaves no lock behind: the kernel drops its file locks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteStore, openDatabase } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { testKeyring } from "../support/keyring.js";

const root = path.join(import.meta.dirname, "..", "..");
const tsxLoader = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;
const childScript = path.join(import.meta.dirname, "fixtures", "sqlite-child.ts");

interface ChildAnswer {
  readonly ok: boolean;
  readonly code?: string | null;
  readonly message?: string;
}

interface Child {
  readonly process: ChildProcess;
  readonly answer: Promise<ChildAnswer>;
  readonly exited: Promise<unknown[]>;
}

function child(mode: "store" | "write-lock", file: string): Child {
  const proc = spawn(process.execPath, ["--import", tsxLoader, childScript, mode, file], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(proc, "exit");
  const answer = (async () => {
    if (proc.stdout === null) throw new Error("no stdout");
    for await (const line of createInterface({ input: proc.stdout })) return JSON.parse(line) as ChildAnswer;
    throw new Error("child ended without answering");
  })();
  return { process: proc, answer, exited };
}

describe("sqlite file ownership", () => {
  let dir: string;
  let file: string;
  const stores: Store[] = [];
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-owner-"));
    file = path.join(dir, "voicecode.db");
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const store of stores.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const openStore = (): Store => {
    const store = createSqliteStore({ path: file, keyring: testKeyring() });
    stores.push(store);
    return store;
  };
  const spawnChild = (mode: "store" | "write-lock"): Child => {
    const c = child(mode, file);
    children.push(c.process);
    return c;
  };

  it("never waits for a lock, and holds the file exclusively", () => {
    const db = openDatabase({ path: file });
    try {
      expect(db.pragma("busy_timeout", { simple: true })).toBe(0);
      expect(db.pragma("locking_mode", { simple: true })).toBe("exclusive");
    } finally {
      db.close();
    }
  });

  it("refuses a second voicecode on the same file at once, naming the file", async () => {
    const store = openStore();
    const second = spawnChild("store");
    const answer = await second.answer;
    expect(answer.ok).toBe(false);
    expect(answer.message).toContain(file);
    expect(answer.message).toMatch(/in use by another process/);
    const [code] = await second.exited;
    expect(code).toBe(1);
    // The owner is unaffected.
    expect(await store.getCall("none")).toBeUndefined();
  });

  it("refuses any other program the write lock, so the owner's writes never wait", async () => {
    const store = openStore();
    const other = spawnChild("write-lock");
    const answer = await other.answer;
    expect(answer).toMatchObject({ ok: false, code: "SQLITE_BUSY" });
    const created = await store.createCall({
      callId: "c-1",
      provider: "sandbox",
      phoneMasked: "+86137****2222",
      playTimes: 1,
      clientReference: "r",
      metadata: {},
      idempotencyKey: "",
      requestHash: "k1:x",
      nowMs: 1,
    });
    expect(created.created).toBe(true);
  });

  it("is free again after the owner closes it, and after the owner is killed", async () => {
    const first = openStore();
    await first.close();
    const afterClose = spawnChild("store");
    expect(await afterClose.answer).toEqual({ ok: true });
    afterClose.process.kill("SIGKILL");
    await afterClose.exited;
    // SIGKILL: no close, no clean-up; the lock must not outlive the process.
    const reopened = openStore();
    expect(await reopened.getCall("none")).toBeUndefined();
  });
});

/** Every module src/cli/bin.ts reaches: relative ones by path, packages by name. */
function importsReachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = fs.readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      const spec = match[1] as string;
      if (spec.startsWith(".")) {
        pending.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, ".ts"));
      } else {
        seen.add(spec);
      }
    }
  }
  return seen;
}

describe("the CLI", () => {
  it("never opens the database: it reaches no store module and no database driver", () => {
    const reached = [...importsReachableFrom(path.join(root, "src", "cli", "bin.ts"))];
    expect(reached.some((m) => m.endsWith(path.join("src", "cli", "main.ts")))).toBe(true);
    const src = path.join(root, "src");
    const offending = reached.filter(
      (m) =>
        m === "better-sqlite3" ||
        m === "pg" ||
        m.startsWith(path.join(src, "store")) ||
        m === path.join(src, "storage.ts") ||
        m === path.join(src, "server.ts"),
    );
    expect(offending).toEqual([]);
  });
});
