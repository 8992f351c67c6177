/**
 * Webhook ingest throughput: the real server's webhook port against a bare node:http +
 * better-sqlite3 server that does one synchronous=FULL transaction per request (one row
 * per report). See bench/README.md ("Ingest and group commit").
 *
 *   npx tsx bench/ingest.ts [--rounds 1] [--single 4000] [--concurrency 16] [--batches 20] [--batch 200]
 *
 * Single: sandbox callbacks, one report per POST, `--concurrency` in flight, each a new
 * event of a distinct call. Batches: Kingsoft status reports, `--batch` per POST, 4 in
 * flight. Each server runs in a child process (this file, forked); the load runs here.
 *
 * Besides events/s, each case reports events per CPU-second of the server's process
 * (process.cpuUsage() in the child, read over IPC before and after the case): on a machine
 * shared with other jobs the wall-clock rates swing with whatever else runs, the CPU cost
 * of an event much less.
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { pino } from "pino";
import { SendRequestSchema } from "../gen/voicecode/v1/voicecode_pb.js";
import { NO_LIMITS_ENV, parseConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { startKingsoftFake } from "../test/fakes/kingsoft.js";

const HOST = "127.0.0.1";
const KINGSOFT_TOKEN = "bench-kingsoft-token-0123456789";

interface Placed {
  readonly callId: string;
  readonly providerCallId: string;
}

interface Ready {
  readonly sandboxUrl: string;
  readonly kingsoftUrl: string;
  readonly calls: readonly Placed[];
  readonly kingsoftCalls: readonly Placed[];
}

// ---- servers (child side) ----

async function startReal(dir: string, calls: number, kingsoftCalls: number): Promise<Ready> {
  const kingsoft = await startKingsoftFake({ stepMs: 3_600_000 });
  const parsed = parseConfig({
    VOICECODE_DB_PATH: join(dir, "voicecode.db"),
    VOICECODE_LOG_LEVEL: "silent",
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    ...kingsoft.env,
    VOICECODE_KINGSOFT_WEBHOOK_TOKEN: KINGSOFT_TOKEN,
    ...NO_LIMITS_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const server = await startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  const place = (provider: string) => async (i: number) => {
    const sent = await server.service.send(
      create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: `bench-${i}`, provider }),
      new AbortController().signal,
      { tenant: "default" },
    );
    return { callId: sent.callId, providerCallId: sent.providerCallId };
  };
  const placeAll = async (n: number, provider: string): Promise<Placed[]> => {
    const out: Placed[] = [];
    for (let i = 0; i < n; i += 64) {
      const chunk = Array.from({ length: Math.min(64, n - i) }, (_, j) => i + j);
      out.push(...(await Promise.all(chunk.map(place(provider)))));
    }
    return out;
  };
  if (server.sandboxCallbackUrl === undefined) throw new Error("no sandbox callback URL");
  return {
    sandboxUrl: server.sandboxCallbackUrl,
    kingsoftUrl: `http://${HOST}:${server.webhookPort}/webhooks/kingsoft/${KINGSOFT_TOKEN}`,
    calls: await placeAll(calls, "sandbox"),
    kingsoftCalls: await placeAll(kingsoftCalls, "kingsoft"),
  };
}

async function startBare(dir: string): Promise<Ready> {
  const db = new Database(join(dir, "bare.db"));
  db.pragma("locking_mode = EXCLUSIVE");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(
    "CREATE TABLE events (id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, received_at INTEGER NOT NULL)",
  );
  const insert = db.prepare("INSERT OR IGNORE INTO events (dedupe_key, payload, received_at) VALUES (?, ?, ?)");
  const store = db.transaction((items: readonly Record<string, unknown>[], at: number) => {
    for (const item of items) {
      insert.run(`${String(item.CallId ?? item.callId)}:${String(item.Status ?? item.event)}`, JSON.stringify(item), at);
    }
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const json: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      store(Array.isArray(json) ? (json as Record<string, unknown>[]) : [json as Record<string, unknown>], Date.now());
      res.writeHead(200, { "content-type": "application/json" }).end('{"code":0}');
    });
  });
  server.listen(0, HOST);
  await once(server, "listening");
  const url = `http://${HOST}:${(server.address() as AddressInfo).port}/webhooks/bare`;
  return { sandboxUrl: url, kingsoftUrl: url, calls: [], kingsoftCalls: [] };
}

// ---- load (orchestrator side) ----

async function post(agent: Agent, url: string, body: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Closed loop: `concurrency` requests in flight until every body is posted; seconds taken. */
async function closedLoop(url: string, bodies: readonly string[], concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const body = bodies[i];
      if (body === undefined) continue;
      const status = await post(agent, url, body);
      if (status !== 200) throw new Error(`POST ${url}: HTTP ${status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return seconds;
}

const sandboxBody = (c: Placed, i: number) =>
  JSON.stringify({ callId: c.providerCallId, userData: c.callId, event: "ringing", code: "180", text: "Ringing", timestamp: new Date(1_700_000_000_000 + i).toISOString() });

function kingsoftBatches(calls: readonly Placed[], size: number): string[] {
  const reports = calls.map((c) => ({ CallId: c.providerCallId, Status: "FAIL", ErrCode: "DH:0001", ErrDesc: "被叫忙", ExtId: c.callId, EndTime: "2025-01-01 08:00:05" }));
  const out: string[] = [];
  for (let i = 0; i < reports.length; i += size) out.push(JSON.stringify(reports.slice(i, i + size)));
  return out;
}

interface Figures {
  readonly single: number;
  readonly batch: number;
  /** Events per CPU-second of the server process. */
  readonly singleCpu: number;
  readonly batchCpu: number;
}

/** The child's CPU time so far, in µs (user + system). */
async function cpuOf(child: ReturnType<typeof fork>): Promise<number> {
  child.send("cpu");
  const [usage] = (await once(child, "message")) as [NodeJS.CpuUsage];
  return usage.user + usage.system;
}

async function measure(mode: "real" | "bare", o: { single: number; batches: number; batch: number; concurrency: number }): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), `voicecode-ingest-${mode}-`));
  const child = fork(import.meta.filename, ["--server", mode, dir, String(o.single), String(o.batches * o.batch)], { execArgv: [...process.execArgv, ...(process.env.BENCH_CHILD_ARGS ?? "").split(" ").filter(Boolean)] });
  try {
    const [ready] = (await once(child, "message")) as [Ready];
    // Bare: synthetic calls with the same shapes.
    const fake = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ callId: `${p}${i}`, providerCallId: `${p}pc${i}` }));
    const calls = mode === "real" ? ready.calls : fake(o.single, "s");
    const kingsoftCalls = mode === "real" ? ready.kingsoftCalls : fake(o.batches * o.batch, "k");
    const singles = calls.map(sandboxBody);
    const batches = kingsoftBatches(kingsoftCalls, o.batch);
    const cpu0 = await cpuOf(child);
    const single = singles.length / (await closedLoop(ready.sandboxUrl, singles, o.concurrency));
    const cpu1 = await cpuOf(child);
    const batch = (batches.length * o.batch) / (await closedLoop(ready.kingsoftUrl, batches, 4));
    const cpu2 = await cpuOf(child);
    return {
      single,
      batch,
      singleCpu: singles.length / ((cpu1 - cpu0) / 1e6),
      batchCpu: (batches.length * o.batch) / ((cpu2 - cpu1) / 1e6),
    };
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "1" },
      single: { type: "string", default: "4000" },
      concurrency: { type: "string", default: "16" },
      batches: { type: "string", default: "20" },
      batch: { type: "string", default: "200" },
    },
  });
  const o = {
    single: Number(values.single),
    concurrency: Number(values.concurrency),
    batches: Number(values.batches),
    batch: Number(values.batch),
  };
  const rounds: Array<{ real: Figures; bare: Figures }> = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    const bare = await measure("bare", o);
    const real = await measure("real", o);
    process.stderr.write(
      `round ${r + 1}: single ${real.single.toFixed(0)} vs bare ${bare.single.toFixed(0)} /s; ` +
        `batch ${real.batch.toFixed(0)} vs bare ${bare.batch.toFixed(0)} events/s; per server CPU-second: ` +
        `single ${real.singleCpu.toFixed(0)} vs ${bare.singleCpu.toFixed(0)}, batch ${real.batchCpu.toFixed(0)} vs ${bare.batchCpu.toFixed(0)}\n`,
    );
    rounds.push({ real, bare });
  }
  const row = (what: string, pick: (f: Figures) => number, target: string) => {
    const real = median(rounds.map((r) => pick(r.real)));
    const bare = median(rounds.map((r) => pick(r.bare)));
    const ratio = median(rounds.map((r) => pick(r.real) / pick(r.bare)));
    return `| ${what} | ${real.toFixed(0)} | ${bare.toFixed(0)} | ${ratio.toFixed(2)} | ${target} |`;
  };
  process.stdout.write(
    `${[
      "| case | real /s | bare /s | real ÷ bare | target |",
      "|---|---:|---:|---:|---:|",
      row(`single callbacks (${o.concurrency} in flight)`, (f) => f.single, "≥ 1.0"),
      row(`Kingsoft batches of ${o.batch}, events (4 in flight)`, (f) => f.batch, "≥ 0.5"),
      row("single callbacks per server CPU-second", (f) => f.singleCpu, "(reference)"),
      row("Kingsoft batch events per server CPU-second", (f) => f.batchCpu, "(reference)"),
    ].join("\n")}\n`,
  );
}

if (process.argv[2] === "--server") {
  const [, mode, dir, single, kingsoft] = process.argv.slice(2);
  if (dir === undefined) throw new Error("--server real|bare <dir> <calls> <kingsoft calls>");
  const ready = mode === "real" ? await startReal(dir, Number(single), Number(kingsoft)) : await startBare(dir);
  // An orderly exit, so a --cpu-prof given in BENCH_CHILD_ARGS gets written.
  process.on("SIGTERM", () => process.exit(0));
  process.on("message", (m) => {
    if (m === "cpu") process.send?.(process.cpuUsage());
  });
  process.send?.(ready);
} else {
  await main();
}
