import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { failureOf, grpcJsClient } from "../support/clients.js";
import { startServerProcess } from "../support/server-process.js";

// The real process: env parsing, start-up, SIGTERM. Run through tsx so no build is needed.
const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
const dir = mkdtempSync(join(tmpdir(), "voicecode-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(env: Record<string, string>): { child: ChildProcess; exited: Promise<unknown[]> } {
  const child = spawn(tsx, [join(root, "src", "main.ts")], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Listen from the start: the exit may come before the test gets to wait for it.
  return { child, exited: once(child, "exit") };
}

/** Resolves with the first JSON log line whose msg matches. */
async function logLine(child: ChildProcess, msg: string): Promise<Record<string, unknown>> {
  if (child.stdout === null) throw new Error("no stdout");
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === msg) return entry;
  }
  throw new Error(`process ended before logging "${msg}"`);
}

describe("the voicecode process", () => {
  it("refuses a bad configuration, listing every bad variable, with exit code 78", async () => {
    const { child, exited } = start({ VOICECODE_GRPC_PORT: "x", VOICECODE_LOG_LEVEL: "loud" });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = await exited;
    expect(code).toBe(78);
    expect(stderr).toContain("VOICECODE_GRPC_PORT");
    expect(stderr).toContain("VOICECODE_LOG_LEVEL");
  });

  it("drains on SIGTERM: open watches end UNAVAILABLE with a resume point, exit code 0", async () => {
    const { child, exited } = start({
      VOICECODE_HOST: "127.0.0.1",
      VOICECODE_GRPC_PORT: "0",
      VOICECODE_API_PORT: "0",
      VOICECODE_WEBHOOK_PORT: "0",
      VOICECODE_DB_PATH: join(dir, "proc.db"),
      VOICECODE_SANDBOX_STEP_MS: "60000",
      // Half-configured: reported at start-up, not offered, and no reason to refuse to start.
      VOICECODE_KINGSOFT_ACCESS_KEY: "AKLTsomething",
    });
    let banner = "";
    child.stderr?.on("data", (d: Buffer) => {
      banner += d.toString();
    });
    const listening = await logLine(child, "voicecode listening");
    expect(listening.providers).toEqual(["sandbox"]);
    const client = grpcJsClient(`http://127.0.0.1:${listening.grpcPort as number}`);
    const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: "p" });
    expect(sent.callId).not.toBe("");

    let seen = 0;
    const watching = failureOf(
      (async () => {
        for await (const _ of client.watch({ target: { case: "clientReference", value: "p" } })) {
          seen += 1;
          if (seen === 1) child.kill("SIGTERM");
        }
      })(),
    );
    const failure = await watching;
    expect(failure.code).toBe("unavailable");
    expect(failure.message).toMatch(/after_sequence=\d+/);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(banner).toContain("providers: sandbox)");
    expect(banner).toContain(
      "not offered: kingsoft (missing VOICECODE_KINGSOFT_SECRET_KEY, VOICECODE_KINGSOFT_WEBHOOK_TOKEN)",
    );
    client.close();
  });
});

describe("one process per SQLite file", () => {
  it("refuses a second process at once, naming the file, while the first keeps serving; restarts after SIGKILL and after a clean stop", async () => {
    const db = join(dir, "owned.db");
    const owner = await startServerProcess({ VOICECODE_DB_PATH: db, VOICECODE_SANDBOX_STEP_MS: "60000" }, dir);
    let callId = "";
    try {
      const second = start({
        VOICECODE_HOST: "127.0.0.1",
        VOICECODE_GRPC_PORT: "0",
        VOICECODE_API_PORT: "0",
        VOICECODE_WEBHOOK_PORT: "0",
        VOICECODE_DB_PATH: db,
      });
      const failed = await logLine(second.child, "start-up failed");
      expect(failed.err).toContain(db);
      expect(failed.err).toMatch(/in use by another process/);
      const [code] = await second.exited;
      expect(code).toBe(1);

      // The owner never waited on the other process: it answers and writes as before.
      expect((await fetch(`${owner.apiUrl}/healthz`)).status).toBe(200);
      const client = grpcJsClient(owner.grpcUrl);
      callId = (await client.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: "own" })).callId;
      client.close();
    } finally {
      // No clean-up at all: the file lock must not outlive the process.
      owner.child.kill("SIGKILL");
      await owner.stop();
    }

    const afterKill = await startServerProcess({ VOICECODE_DB_PATH: db }, dir);
    const client = grpcJsClient(afterKill.grpcUrl);
    expect((await client.getCall(callId)).call?.callId).toBe(callId);
    client.close();
    expect(await afterKill.stop()).toBe(0);

    const afterStop = await startServerProcess({ VOICECODE_DB_PATH: db }, dir);
    // One request served first: main.ts installs its signal handlers only after the
    // "listening" line, so a SIGTERM sent on that line alone could come before them.
    expect((await fetch(`${afterStop.apiUrl}/healthz`)).status).toBe(200);
    expect(await afterStop.stop()).toBe(0);
    // Four server processes one after another: on a loaded 2-core machine each start
    // takes seconds, so the default 20 s is not enough for the whole sequence.
  }, 90_000);
});

/** Every process below `pid` (children, grandchildren...), from one `ps` snapshot. */
function descendants(pid: number): number[] {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm start, the README's command", () => {
  // Left over only when the test fails: the orphan it is about. Ours, so we end it.
  const leftovers: number[] = [];
  afterAll(() => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  it(
    "drains and exits 0 on SIGTERM to npm, leaving no server process behind",
    async () => {
      const npm = spawn("npm", ["start"], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? dir,
          VOICECODE_HOST: "127.0.0.1",
          VOICECODE_GRPC_PORT: "0",
          VOICECODE_API_PORT: "0",
          VOICECODE_WEBHOOK_PORT: "0",
          VOICECODE_DB_PATH: join(dir, "npm-start.db"),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = once(npm, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
      npm.stderr?.resume();
      const logs: string[] = [];
      const lines = createInterface({ input: npm.stdout! });
      const closed = once(lines, "close");
      // npm prints its own "> voicecode@... start" banner first: not JSON, skipped.
      const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
        lines.on("line", (line) => {
          logs.push(line);
          if (line.includes('"msg":"voicecode listening"')) resolve(JSON.parse(line) as Record<string, unknown>);
        });
        lines.on("close", () => reject(new Error(`npm start ended before listening:\n${logs.join("\n")}`)));
      });
      const ready = await listening;
      // Serving (and so past installing its signal handlers) before the signal is sent.
      expect((await fetch(`http://127.0.0.1:${ready.apiPort as number}/readyz`)).status).toBe(200);
      const below = descendants(npm.pid!);
      leftovers.push(...below);
      expect(below.length).toBeGreaterThan(0);

      npm.kill("SIGTERM");
      const [code, signal] = await exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(below.filter(alive)).toEqual([]);
      await closed;
      expect(logs.some((l) => l.includes('"msg":"voicecode stopped"'))).toBe(true);
    },
    // npm start builds first (tsc on a shared 2-core machine), then starts.
    180_000,
  );
});
