/**
 * One server of the scale bench, in a child process of its own (argv[2] names it):
 *
 *   stream-bare  grpc-js with one server-streaming method that writes nothing (the floor
 *                for open, idle WatchStatus streams)
 *   real         startServer: SQLite file, sandbox (callbacks an hour away: only the
 *                bench's POSTs arrive) and Kingsoft against its contract fake (used only
 *                to place calls; it never pushes), limits off
 *   sqlite-bare  node:http + better-sqlite3: one synchronous=FULL transaction per request,
 *                one row per event (the floor for webhook ingest)
 */
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { create } from "@bufbuild/protobuf";
import { Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import Database from "better-sqlite3";
import { pino } from "pino";
import { DEFAULT_GRPC_SERVER_OPTIONS } from "../../src/api/grpc/server.js";
import type { RunningServer } from "../../src/server.js";
import { type KingsoftFake, startKingsoftFake } from "../../test/fakes/kingsoft.js";
import { serve, wallMs } from "./ipc.js";
import { phaseProfiler } from "./profile.js";
import { type Stalls, watchStalls } from "./stalls.js";
import { fromDist } from "./dist.js";

const HOST = "127.0.0.1";
const CALLER = { tenant: "default" } as const;
export const WATCH_PATH = "/voicecode.v1.VoiceCode/WatchStatus";
export const KINGSOFT_TOKEN = "bench-kingsoft-token-0123456789";

export interface WatchedCall {
  readonly callId: string;
  readonly providerCallId: string;
  /** The call's newest event: a watch from here is idle until a callback comes. */
  readonly afterSequence: number;
}

export interface RealSetup {
  readonly grpcPort: number;
  readonly sandboxUrl: string;
  readonly kingsoftUrl: string;
  readonly calls: readonly WatchedCall[];
  readonly kingsoftCalls: readonly WatchedCall[];
}

export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

// ---- open-stream counting: the orchestrator waits for n opened streams ----

let opened = 0;
let waiters: { n: number; resolve(atMs: number): void }[] = [];
function countOpen(): void {
  opened++;
  if (waiters.length === 0) return;
  const at = wallMs();
  waiters = waiters.filter((w) => {
    if (opened < w.n) return true;
    w.resolve(at);
    return false;
  });
}
function waitOpen(n: number): Promise<number> {
  if (opened >= n) return Promise.resolve(wallMs());
  return new Promise((resolve) => waiters.push({ n, resolve }));
}

async function memory(): Promise<Memory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** At most `concurrency` of `fn` at a time over `items`, results in order. */
async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

// ---- stream-bare ----

async function startStreamBare(): Promise<{ grpcPort: number }> {
  const server = new Server(DEFAULT_GRPC_SERVER_OPTIONS);
  const identity = (b: Buffer) => b;
  server.addService(
    {
      WatchStatus: {
        path: WATCH_PATH,
        requestStream: false,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
        originalName: "watchStatus",
      },
    },
    {
      // Writes nothing and keeps nothing: the stream stays open until the client goes.
      WatchStatus: (_call: ServerWritableStream<Buffer, Buffer>) => countOpen(),
    },
  );
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${HOST}:0`, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return { grpcPort };
}

// ---- real ----

let real: { server: RunningServer; kingsoft: KingsoftFake } | undefined;

async function startReal(dir: string, args: { calls: number; kingsoftCalls: number }): Promise<RealSetup> {
  const { NO_LIMITS_ENV, SendRequestSchema, parseConfig, startServer } = await fromDist();
  const kingsoft = await startKingsoftFake({ stepMs: 3_600_000 });
  const parsed = parseConfig({
    VOICECODE_HOST: HOST,
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    VOICECODE_DB_PATH: join(dir, "voicecode.db"),
    // Both ways of running the store, from one build: VOICECODE_SQLITE_THREAD=true npx tsx bench/scale/run.ts
    ...(process.env.VOICECODE_SQLITE_THREAD === undefined ? {} : { VOICECODE_SQLITE_THREAD: process.env.VOICECODE_SQLITE_THREAD }),
    VOICECODE_LOG_LEVEL: "silent",
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    VOICECODE_SHUTDOWN_GRACE_MS: "5000",
    ...kingsoft.env,
    VOICECODE_KINGSOFT_WEBHOOK_TOKEN: KINGSOFT_TOKEN,
    ...NO_LIMITS_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const server = await startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  real = { server, kingsoft };
  // Each watch reads its events once when it opens; that read done, the stream is open.
  const store = server.store as { listEvents: typeof server.store.listEvents };
  const listEvents = store.listEvents.bind(server.store);
  store.listEvents = async (...a) => {
    const events = await listEvents(...a);
    countOpen();
    return events;
  };
  const place = (provider: string) => async (i: number) => {
    const sent = await server.service.send(
      create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: `bench-${i}`, provider }),
      new AbortController().signal,
      CALLER,
    );
    const call = await server.store.getCall(sent.callId);
    if (call === undefined) throw new Error(`call ${sent.callId} not stored`);
    return { callId: sent.callId, providerCallId: sent.providerCallId };
  };
  const indices = (n: number) => Array.from({ length: n }, (_, i) => i);
  const sandboxCalls = await pool(indices(args.calls), 32, place("sandbox"));
  const kingsoftCalls = await pool(indices(args.kingsoftCalls), 32, place("kingsoft"));
  const withSequence = async (c: { callId: string; providerCallId: string }): Promise<WatchedCall> => {
    const events = await listEvents({ callId: c.callId }, 0, 1000);
    return { ...c, afterSequence: events.at(-1)?.sequence ?? 0 };
  };
  const base = `http://${HOST}:${server.webhookPort}/webhooks`;
  if (server.sandboxCallbackUrl === undefined) throw new Error("no sandbox callback URL");
  return {
    grpcPort: server.grpcPort,
    sandboxUrl: server.sandboxCallbackUrl,
    kingsoftUrl: `${base}/kingsoft/${KINGSOFT_TOKEN}`,
    calls: await Promise.all(sandboxCalls.map(withSequence)),
    kingsoftCalls: await Promise.all(kingsoftCalls.map(withSequence)),
  };
}

// ---- sqlite-bare ----

async function startSqliteBare(dir: string): Promise<{ url: string }> {
  const db = new Database(join(dir, "bare.db"));
  db.pragma("locking_mode = EXCLUSIVE");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, received_at INTEGER NOT NULL)");
  const insert = db.prepare("INSERT OR IGNORE INTO events (dedupe_key, payload, received_at) VALUES (?, ?, ?)");
  const store = db.transaction((items: readonly Record<string, unknown>[], at: number) => {
    for (const item of items) {
      const key = `${String(item.CallId ?? item.callId)}:${String(item.Status ?? item.event)}`;
      insert.run(key, JSON.stringify(item), at);
    }
  });
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const json: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const started = performance.now();
        store(Array.isArray(json) ? json : [json], Date.now());
        commitMs.push(performance.now() - started);
        res.writeHead(200, { "content-type": "application/json" }).end('{"code":0}');
      } catch (err) {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: String(err) }));
      }
    });
  });
  server.listen(0, HOST);
  await once(server, "listening");
  return { url: `http://${HOST}:${(server.address() as AddressInfo).port}/webhooks/bare` };
}

const [mode, dir] = process.argv.slice(2);
if (dir === undefined) throw new Error("args: stream-bare|real|sqlite-bare <scratch dir>");

let stalls: ReturnType<typeof watchStalls> | undefined;
// BENCH_PROFILE_DIR=dir: a CPU profile of each callbacks pass only (not the setup or the ingest runs).
const profiler = process.env.BENCH_PROFILE_DIR === undefined ? undefined : phaseProfiler(process.env.BENCH_PROFILE_DIR);
/** sqlite-bare: how long each request's transaction (one synchronous = FULL commit) took. */
const commitMs: number[] = [];

serve({
  setup: (args: { calls: number; kingsoftCalls: number }) => {
    if (mode === "stream-bare") return startStreamBare();
    if (mode === "real") return startReal(dir, args);
    if (mode === "sqlite-bare") return startSqliteBare(dir);
    throw new Error(`unknown server ${mode}`);
  },
  memory,
  /** For digging into memory per stream: `npx tsx bench/scale/heap-diff.ts`. */
  heapSnapshot: (args: { path: string }) => {
    (globalThis as { gc?: () => void }).gc?.();
    return writeHeapSnapshot(args.path);
  },
  stallsStart: async () => {
    stalls = watchStalls();
    await profiler?.start();
  },
  stallsStop: async (): Promise<Stalls | undefined> => {
    await profiler?.stop();
    return stalls?.stop();
  },
  /** The bare server's commit times since the last call, sorted (the disk's sync latency). */
  takeCommits: (): number[] => commitMs.splice(0).sort((a, b) => a - b),
  resetOpen: () => {
    opened = 0;
  },
  waitOpen: (args: { n: number }) => waitOpen(args.n),
  subscribers: () => real?.server.bus.subscriberCount ?? 0,
  stop: async () => {
    await real?.server.stop();
    await real?.kingsoft.close();
  },
});
