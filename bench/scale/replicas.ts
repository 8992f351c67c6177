/**
 * Two replicas on one PostgreSQL database (bench/README.md, "PostgreSQL"):
 *
 *   1. callbacks across replicas: sandbox callbacks POSTed open loop at --rate for
 *      --seconds into replica A's webhook port, each for a call a client watches
 *      (WatchStatus) on replica B; latency from each POST's scheduled time to the event
 *      at the client (A commits, NOTIFY wakes B's listener, B reads and delivers).
 *      Target: the rate held, p99 ≤ 30 ms. The streams are open (each has replayed its
 *      call's last event) before any callback, and --warmup seconds of callbacks go first,
 *      reported but not judged, as bench/scale/run.ts does for one server.
 *   2. Send throughput (h2load, as bench/run.ts): the SQLite server alone, one PostgreSQL
 *      replica alone, then both replicas at once (one h2load each, the same load per
 *      replica). Targets: one replica's rate ≥ 0.5 × SQLite's, two ≥ 1.6 × one.
 *
 *   npx tsx bench/scale/replicas.ts [--rounds 1] [--rate 1000] [--seconds 5] [--connections 10]
 *       [--webhook-connections 32] [--callbacks-only] [--duration 5] [--warmup 2] [--clients 4] [--streams 32]
 *
 * Part 1 also reports CPU per delivered callback of each replica and of the database's
 * server backends (/proc): on a shared box it moves far less than the wall rate.
 * BENCH_LATENCY_FILE=path writes every callback's timings (path.callbacks.tsv, …).
 * REPLICA_NODE_ARGS adds node flags to the replicas, e.g. "--cpu-prof --cpu-prof-dir=DIR".
 *
 * Processes: this orchestrator; the replicas (replica.ts, each its own process, from
 * dist/); the watching client (watchers.ts) and the callback generator (load.ts); h2load.
 * Each round gets a fresh database (bench/postgres.ts), dropped after.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import pg from "pg";
import { CallState, SendRequestSchema, SendResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { type H2loadResult, h2loadVersion, runH2load } from "../h2load.js";
import { ADMIN_URL_SHOWN, postgresProblem, withBenchDatabase } from "../postgres.js";
import { grpcFrame, grpcUnaryMessage, probe } from "../probe.js";
import { build } from "./build.js";
import { Child } from "./ipc.js";
import { percentile, timeline } from "./latency.js";
import type { Item, OpenLoopResult } from "./load.js";
import type { ReplicaSetup } from "./replica.js";
import type { WatchedCall } from "./server.js";
import type { Arrivals } from "./watchers.js";

const TARGETS = { rate: 1000, p99Ms: 30, perReplica: 0.5, twoOverOne: 1.6 } as const;
const SEND = "/voicecode.v1.VoiceCode/Send";
const GRPC_HEADERS = { "content-type": "application/grpc", te: "trailers" } as const;

interface Options {
  rounds: number;
  rate: number;
  seconds: number;
  connections: number;
  webhookConnections: number;
  duration: number;
  warmup: number;
  clients: number;
  streams: number;
  /** Part 1 alone: no Send throughput (quicker before/after pairs of the callback path). */
  callbacksOnly: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "1" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string", default: "5" },
      connections: { type: "string", default: "10" },
      "webhook-connections": { type: "string", default: "32" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "2" },
      clients: { type: "string", default: "4" },
      streams: { type: "string", default: "32" },
      "callbacks-only": { type: "boolean", default: false },
    },
  });
  const n = (name: keyof typeof values) => {
    const x = Number(values[name]);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, not ${values[name]}`);
    return x;
  };
  return {
    rounds: n("rounds"),
    rate: n("rate"),
    seconds: n("seconds"),
    connections: n("connections"),
    webhookConnections: n("webhook-connections"),
    duration: n("duration"),
    warmup: n("warmup"),
    clients: n("clients"),
    streams: n("streams"),
    callbacksOnly: values["callbacks-only"] === true,
  };
}

interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly achievedPerSec: number;
  readonly delivered: number;
  readonly offered: number;
  readonly failedPosts: number;
  readonly generatorLagMs: number;
  /** CPU per delivered callback (µs): replica A, replica B, this database's server backends. */
  readonly cpuUs: { readonly a: number; readonly b: number; readonly server: number };
  /** The warm-up pass before the judged one (--warmup seconds of callbacks), not judged. */
  readonly firstSeconds?: Latency;
}

interface Round {
  latency: Latency;
  sqlite: number;
  one: number;
  two: { a: number; b: number };
  /** The machine's CPU in use during the one- and two-replica Send runs (0..1). */
  busy: { one: number; two: number };
  load: number[];
}

const percent = (x: number) => `${(100 * x).toFixed(0)} %`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopAll(children: readonly Child[]): Promise<void> {
  for (const c of children) {
    await c.call("stop").catch(() => undefined);
    await c.stop().catch(() => c.kill());
  }
}

async function startReplica(args: { databaseUrl?: string; dir: string }): Promise<{ child: Child; setup: ReplicaSetup }> {
  // E.g. REPLICA_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS).
  const child = Child.start("./replica.ts", [], process.env.REPLICA_NODE_ARGS?.split(" ").filter((x) => x !== "") ?? []);
  try {
    return { child, setup: await child.call<ReplicaSetup>("setup", args) };
  } catch (err) {
    child.kill();
    throw err;
  }
}

const sandboxBody = (c: WatchedCall) =>
  JSON.stringify({ callId: c.providerCallId, userData: c.callId, event: "ringing", code: "180", text: "Ringing", timestamp: new Date().toISOString() });

/** Part 1: callbacks into replica A, each watched on replica B. */
/**
 * CPU time (µs) of the server processes serving this database, from /proc (PostgreSQL on
 * this machine). A noisy box moves wall rates far more than CPU per callback.
 */
async function serverCpuUs(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    let ticks = 0;
    for (const { pid } of rows) {
      try {
        // Fields after the parenthesised name: utime and stime are the 12th and 13th.
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // Ended meanwhile: its time is lost, a small undercount.
      }
    }
    return ticks * 10_000; // USER_HZ 100
  } finally {
    await client.end();
  }
}

async function callbacks(o: Options, a: Child, aSetup: ReplicaSetup, b: Child, bSetup: ReplicaSetup, databaseUrl: string, log: (s: string) => void): Promise<Latency> {
  const offered = o.rate * o.seconds;
  const warmupCalls = o.rate * o.warmup;
  log(`placing ${warmupCalls + offered} calls on replica A…`);
  const calls = await a.call<WatchedCall[]>("place", { n: warmupCalls + offered, concurrency: 32 });
  const internal = await b.call<number>("subscribers");
  const watchers = Child.start("./watchers.ts", []);
  const load = Child.start("./load.ts", []);

  /** One open-loop pass of callbacks, one per call, at o.rate: its latencies and CPU. */
  async function pass(passCalls: readonly WatchedCall[], label: string): Promise<Latency> {
    await watchers.call("resetArrivals");
    const items: Item[] = passCalls.map((c) => ({ key: c.callId, body: sandboxBody(c) }));
    const cpuBefore = { a: await a.call<number>("cpu"), b: await b.call<number>("cpu"), server: await serverCpuUs(databaseUrl) };
    const sent = await load.call<OpenLoopResult>("openLoop", { url: aSetup.sandboxUrl, rate: o.rate, items, connections: o.webhookConnections });
    let arrivals = await watchers.call<Arrivals>("arrivals");
    for (let i = 0; i < 100 && Object.keys(arrivals.first).length < sent.ok; i++) {
      await sleep(50);
      arrivals = await watchers.call<Arrivals>("arrivals");
    }
    const cpuAfter = { a: await a.call<number>("cpu"), b: await b.call<number>("cpu"), server: await serverCpuUs(databaseUrl) };
    const { latencies, rows, lastArrival } = timeline(items, sent, arrivals);
    // BENCH_LATENCY_FILE=path, as in run.ts: every callback's (sent offset, POST → answer, answer → event).
    const file = process.env.BENCH_LATENCY_FILE;
    if (file !== undefined) writeFileSync(`${file}.${label}.tsv`, `sent_ms\tack_ms\tfanout_ms\n${rows.join("\n")}\n`);
    const windowMs = Math.max(lastArrival, sent.lastMs) - sent.firstMs + 1000 / o.rate;
    const latency: Latency = {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      achievedPerSec: latencies.length / (windowMs / 1000),
      delivered: latencies.length,
      offered: passCalls.length,
      failedPosts: sent.failed,
      generatorLagMs: sent.maxLagMs,
      cpuUs: {
        a: (cpuAfter.a - cpuBefore.a) / latencies.length,
        b: (cpuAfter.b - cpuBefore.b) / latencies.length,
        server: (cpuAfter.server - cpuBefore.server) / latencies.length,
      },
    };
    log(
      `${label}: callbacks A → watcher on B at ${o.rate}/s: delivered ${latency.delivered}/${passCalls.length}, p50 ${latency.p50Ms.toFixed(2)} ms, ` +
        `p99 ${latency.p99Ms.toFixed(2)} ms, ${latency.achievedPerSec.toFixed(0)}/s; CPU per callback ` +
        `A ${latency.cpuUs.a.toFixed(0)} µs, B ${latency.cpuUs.b.toFixed(0)} µs, PostgreSQL ${latency.cpuUs.server.toFixed(0)} µs`,
    );
    return latency;
  }

  try {
    // Each stream resumes just before its call's last event, so its first read replays that
    // one event: once every stream has it, every watch on B has done its first read and is
    // live. (Subscribed is not enough: a watch subscribes before its first read, and 5 000
    // first reads still queued on B's pool held up the first ~2 s of callbacks, a cost of
    // opening streams, which the open-time case measures, not of fan-out.)
    const resumed = calls.map((c) => ({ ...c, afterSequence: c.afterSequence - 1 }));
    await watchers.call("open", { port: bSetup.grpcPort, connections: o.connections, calls: resumed });
    while ((await b.call<number>("subscribers")) - internal < calls.length) await sleep(50);
    let opening = await watchers.call<Arrivals>("arrivals");
    for (let i = 0; i < 600 && Object.keys(opening.first).length < calls.length && opening.ended === 0; i++) {
      await sleep(50);
      opening = await watchers.call<Arrivals>("arrivals");
    }
    if (opening.ended > 0) throw new Error(`${opening.ended} streams ended early: ${opening.errors.join("; ")}`);
    if (Object.keys(opening.first).length < calls.length) throw new Error("streams did not replay their last event within 30 s");
    // The replicas' first seconds of webhooks (JIT, each pooled connection preparing its
    // statements): reported, not judged, as run.ts does for one server.
    const first = warmupCalls > 0 ? await pass(calls.slice(0, warmupCalls), "first-seconds") : undefined;
    const latency = await pass(calls.slice(warmupCalls), "callbacks");
    await watchers.call("close").catch(() => undefined);
    return { ...latency, ...(first === undefined ? {} : { firstSeconds: first }) };
  } finally {
    await watchers.stop().catch(() => watchers.kill());
    await load.stop().catch(() => load.kill());
  }
}

/** One Send through node:http2, checked: grpc-status 0 and an ACCEPTED call. */
async function probeSend(port: number, body: Buffer): Promise<void> {
  const response = await probe(`http://127.0.0.1:${port}`, SEND, GRPC_HEADERS, body);
  const message = fromBinary(SendResponseSchema, grpcUnaryMessage(response));
  if (message.state !== CallState.ACCEPTED) throw new Error(`Send answered state ${CallState[message.state]}`);
}

/** The machine's CPU time so far (/proc/stat, all cores, in ticks): busy and in all. */
function machineTicks(): { busy: number; all: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
  const all = fields.reduce((a, b) => a + b, 0);
  // idle and iowait
  return { busy: all - (fields[3] ?? 0) - (fields[4] ?? 0), all };
}

/**
 * h2load Sends at the given replicas at once, one h2load each; the probes before and after.
 * `busy`: the share of the machine's CPU in use meanwhile (all processes, all cores): a
 * replica added to a machine already busy cannot add throughput, whatever it does.
 */
async function sends(
  o: Options,
  dir: string,
  ports: readonly number[],
  tag: string,
): Promise<{ readonly results: H2loadResult[]; readonly busy: number }> {
  const body = grpcFrame(toBinary(SendRequestSchema, create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: "replicas" })));
  const bodyFile = join(dir, "send.body");
  writeFileSync(bodyFile, body);
  for (const port of ports) await probeSend(port, body);
  const before = machineTicks();
  const results = await Promise.all(
    ports.map((port, i) =>
      runH2load({
        url: `http://127.0.0.1:${port}${SEND}`,
        bodyFile,
        headers: Object.entries(GRPC_HEADERS).map(([k, v]) => `${k}: ${v}`),
        clients: o.clients,
        streams: o.streams,
        warmupSeconds: o.warmup,
        durationSeconds: o.duration,
        logFile: join(dir, `${tag}-${i}.log`),
      }),
    ),
  );
  const after = machineTicks();
  const busy = (after.busy - before.busy) / (after.all - before.all);
  for (const port of ports) await probeSend(port, body);
  for (const r of results) {
    if (r.failed > 0 || r.status2xx === 0) throw new Error(`${tag}: h2load reports ${r.failed} failed requests, ${r.status2xx} 2xx`);
  }
  return { results, busy };
}

/**
 * h2load sees HTTP 200 even for a gRPC error, so the database is asked too: there are at
 * least as many accepted calls as h2load counted successes, and no more calls without
 * their answer than requests h2load cut off in flight when it stopped (`inFlight`).
 */
async function checkSends(databaseUrl: string, succeeded: number, inFlight: number, tag: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ accepted: string; other: string }>(
      `SELECT COUNT(*) FILTER (WHERE state = ${CallState.ACCEPTED}) AS accepted,
              COUNT(*) FILTER (WHERE state <> ${CallState.ACCEPTED}) AS other FROM calls WHERE client_reference = 'replicas'`,
    );
    const accepted = Number(rows[0]?.accepted ?? 0);
    const other = Number(rows[0]?.other ?? 0);
    if (other > inFlight || accepted < succeeded) {
      throw new Error(`${tag}: ${accepted} accepted and ${other} other calls for ${succeeded} successful Sends`);
    }
  } finally {
    await client.end();
  }
}

async function runRound(o: Options, dir: string, log: (s: string) => void): Promise<Round> {
  const loads: number[] = [loadavg()[0] ?? 0];
  // SQLite, one server: the per-replica baseline, measured in the same round.
  let sqlite = Number.NaN;
  if (!o.callbacksOnly) {
    const { child, setup } = await startReplica({ dir: mkdtempSync(join(dir, "sqlite-")) });
    try {
      const [r] = (await sends(o, dir, [setup.grpcPort], "sqlite")).results;
      sqlite = r?.reqPerSec ?? Number.NaN;
      log(`Send, SQLite server: ${sqlite.toFixed(0)} req/s`);
    } finally {
      await stopAll([child]);
    }
  }
  loads.push(loadavg()[0] ?? 0);
  return withBenchDatabase(async (databaseUrl) => {
    const a = await startReplica({ databaseUrl, dir });
    const b = await startReplica({ databaseUrl, dir }).catch(async (err: unknown) => {
      await stopAll([a.child]);
      throw err;
    });
    try {
      const latency = await callbacks(o, a.child, a.setup, b.child, b.setup, databaseUrl, log);
      loads.push(loadavg()[0] ?? 0);
      if (o.callbacksOnly) {
        return { latency, sqlite, one: Number.NaN, two: { a: Number.NaN, b: Number.NaN }, busy: { one: Number.NaN, two: Number.NaN }, load: loads };
      }
      const oneRun = await sends(o, dir, [a.setup.grpcPort], "one");
      const [one] = oneRun.results;
      if (one === undefined) throw new Error("no h2load result");
      log(`Send, one PostgreSQL replica: ${one.reqPerSec.toFixed(0)} req/s, machine CPU ${percent(oneRun.busy)} busy`);
      loads.push(loadavg()[0] ?? 0);
      const twoRun = await sends(o, dir, [a.setup.grpcPort, b.setup.grpcPort], "two");
      const [ta, tb] = twoRun.results;
      if (ta === undefined || tb === undefined) throw new Error("no h2load result");
      log(`Send, two PostgreSQL replicas: ${ta.reqPerSec.toFixed(0)} + ${tb.reqPerSec.toFixed(0)} req/s, machine CPU ${percent(twoRun.busy)} busy`);
      loads.push(loadavg()[0] ?? 0);
      await checkSends(databaseUrl, one.status2xx + ta.status2xx + tb.status2xx, 3 * o.clients * o.streams, "PostgreSQL Sends");
      const busy = { one: oneRun.busy, two: twoRun.busy };
      return { latency, sqlite, one: one.reqPerSec, two: { a: ta.reqPerSec, b: tb.reqPerSec }, busy, load: loads };
    } finally {
      await stopAll([a.child, b.child]);
    }
  });
}

function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
function spread(values: readonly number[], digits: number): string {
  const text = median(values).toFixed(digits);
  return values.length < 2 ? text : `${text} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

function report(o: Options, rounds: readonly Round[]): string {
  const held = rounds.map((r) => r.latency.achievedPerSec);
  const p99 = rounds.map((r) => r.latency.p99Ms);
  const perReplica = rounds.map((r) => r.one / r.sqlite);
  const twoOverOne = rounds.map((r) => (r.two.a + r.two.b) / r.one);
  const lines = [
    "| case | figure | target | result |",
    "|---|---:|---:|---|",
    `| callbacks into A, watched on B, offered ${o.rate}/s for ${o.seconds} s: achieved /s | ${spread(held, 0)} | ${TARGETS.rate}/s held (≥ 99 %) | ${verdict(o.rate >= TARGETS.rate && median(held) >= o.rate * 0.99 && rounds.every((r) => r.latency.delivered === r.latency.offered && r.latency.firstSeconds?.delivered === r.latency.firstSeconds?.offered))} |`,
    `| … CPU per callback (µs): A / B / PostgreSQL | ${spread(rounds.map((r) => r.latency.cpuUs.a), 0)} / ${spread(rounds.map((r) => r.latency.cpuUs.b), 0)} / ${spread(rounds.map((r) => r.latency.cpuUs.server), 0)} | | |`,
    `| … POST → event at the client on B, p50 / p99 / max (ms) | ${spread(rounds.map((r) => r.latency.p50Ms), 2)} / ${spread(p99, 2)} / ${spread(rounds.map((r) => r.latency.maxMs), 1)} | p99 ≤ ${TARGETS.p99Ms} | ${verdict(median(p99) <= TARGETS.p99Ms)} |`,
    `| … the replicas' first ${o.warmup} s of callbacks (before the judged pass), p50 / p99 / max (ms) | ${spread(rounds.map((r) => r.latency.firstSeconds?.p50Ms ?? Number.NaN), 2)} / ${spread(rounds.map((r) => r.latency.firstSeconds?.p99Ms ?? Number.NaN), 2)} / ${spread(rounds.map((r) => r.latency.firstSeconds?.maxMs ?? Number.NaN), 1)} | | (not judged) |`,
    `| Send, SQLite server (req/s) | ${spread(rounds.map((r) => r.sqlite), 0)} | | |`,
    `| Send, one PostgreSQL replica (req/s) | ${spread(rounds.map((r) => r.one), 0)} | | |`,
    `| Send, two PostgreSQL replicas (req/s, A + B) | ${spread(rounds.map((r) => r.two.a + r.two.b), 0)} | | |`,
    `| one PostgreSQL replica ÷ SQLite | ${spread(perReplica, 2)} | ≥ ${TARGETS.perReplica} | ${verdict(median(perReplica) >= TARGETS.perReplica)} |`,
    `| two replicas ÷ one | ${spread(twoOverOne, 2)} | ≥ ${TARGETS.twoOverOne} | ${verdict(median(twoOverOne) >= TARGETS.twoOverOne)} |`,
    `| … the machine's CPU in use, one replica / two (all processes, ${cpus().length} cores) | ${spread(rounds.map((r) => 100 * r.busy.one), 0)} % / ${spread(rounds.map((r) => 100 * r.busy.two), 0)} % | | |`,
    "",
    `Callback POSTs not answered 200: ${rounds.reduce((n, r) => n + r.latency.failedPosts, 0)}; the generator's worst lag behind its schedule: ${spread(rounds.map((r) => r.latency.generatorLagMs), 1)} ms.`,
    `1-minute load average at the start of each part: ${rounds.map((r) => r.load.map((l) => l.toFixed(1)).join(" / ")).join("; ")}.`,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = parseOptions();
  const h2load = h2loadVersion();
  if (h2load === undefined) {
    console.error("h2load not found: apt-get install nghttp2-client (or set H2LOAD)");
    process.exitCode = 1;
    return;
  }
  const problem = await postgresProblem();
  if (problem !== undefined) {
    console.error(`PostgreSQL at ${ADMIN_URL_SHOWN} is unreachable (${problem})`);
    process.exitCode = 1;
    return;
  }
  build();
  const cpu = cpus();
  console.log(`node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${h2load}; ${JSON.stringify(o)}\n`);
  const dir = mkdtempSync(join(tmpdir(), "voicecode-bench-replicas-"));
  const rounds: Round[] = [];
  try {
    for (let r = 1; r <= o.rounds; r++) rounds.push(await runRound(o, dir, (s) => console.error(`round ${r}  ${s}`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(report(o, rounds));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
