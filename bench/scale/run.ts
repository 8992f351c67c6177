/**
 * Scale benchmarks: many open WatchStatus streams, callbacks into watched calls, webhook
 * ingest. Each figure is a ratio to a bare server measured in the same round, or a fixed
 * target. See bench/README.md ("Scale").
 *
 *   npx tsx bench/scale/run.ts [--rounds 1] [--streams 10000] [--connections 10]
 *       [--rate 1000] [--seconds 5] [--warmup-seconds 2] [--webhook-connections 32] [--ingest-concurrency 16]
 *       [--batch 200] [--batch-events 10000]
 *
 * Processes: this orchestrator; one server at a time (server.ts: stream-bare, real,
 * sqlite-bare); the watching client (watchers.ts); the load generator (load.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { build } from "./build.js";
import { Child } from "./ipc.js";
import { percentile, timeline } from "./latency.js";
import type { ClosedLoopResult, Item, OpenLoopResult } from "./load.js";
import type { Memory, RealSetup, WatchedCall } from "./server.js";
import type { Arrivals } from "./watchers.js";
import type { Stalls } from "./stalls.js";

const TARGETS = {
  rssPerStream: 1.2,
  openTime: 1.5,
  rate: 1000,
  p99Ms: 10,
  singleIngest: 1.0,
  batchIngest: 0.5,
} as const;

interface Options {
  rounds: number;
  streams: number;
  connections: number;
  rate: number;
  seconds: number;
  ingestConcurrency: number;
  batch: number;
  batchEvents: number;
  webhookConnections: number;
  warmupSeconds: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "1" },
      streams: { type: "string", default: "10000" },
      connections: { type: "string", default: "10" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string", default: "5" },
      "ingest-concurrency": { type: "string", default: "16" },
      batch: { type: "string", default: "200" },
      "batch-events": { type: "string", default: "10000" },
      "webhook-connections": { type: "string", default: "32" },
      "warmup-seconds": { type: "string", default: "2" },
    },
  });
  const n = (name: string, v: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, not ${v}`);
    return x;
  };
  const o: Options = {
    rounds: n("rounds", values.rounds),
    streams: n("streams", values.streams),
    connections: n("connections", values.connections),
    rate: n("rate", values.rate),
    seconds: n("seconds", values.seconds),
    ingestConcurrency: n("ingest-concurrency", values["ingest-concurrency"]),
    batch: n("batch", values.batch),
    batchEvents: n("batch-events", values["batch-events"]),
    webhookConnections: n("webhook-connections", values["webhook-connections"]),
    warmupSeconds: n("warmup-seconds", values["warmup-seconds"]),
  };
  if (o.rate * (o.warmupSeconds + o.seconds) > o.streams) {
    throw new Error("--rate × (--warmup-seconds + --seconds) callbacks need as many watched calls: raise --streams");
  }
  return o;
}

interface StreamFigures {
  readonly bytesPerStream: number;
  readonly heapPerStream: number;
  readonly openMs: number;
}

interface LatencyFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Scheduled send → the webhook's answer read by the load generator (p50 / p99). */
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  /** The answer → the event at the watching client (p50 / p99); negative when the event wins. */
  readonly fanoutP50Ms: number;
  readonly fanoutP99Ms: number;
  readonly achievedPerSec: number;
  readonly delivered: number;
  readonly offered: number;
  readonly failedPosts: number;
  readonly generatorLagMs: number;
}

interface Round {
  bare?: StreamFigures;
  real?: StreamFigures;
  latency?: LatencyFigures;
  /** The same callbacks with no connection open beforehand (reported, not judged). */
  coldLatency?: LatencyFigures;
  /** The server's first webhook traffic, before the judged pass (reported, not judged). */
  firstSecondsLatency?: LatencyFigures;
  single?: { real: number; bare: number };
  batch?: { real: number; bare: number };
  /** The bare server's own commits: a callback's event can't reach a watcher before its commit's sync. */
  commitFloor?: { p50Ms: number; p99Ms: number };
  stalls?: Stalls;
}

function latencyFigures(o: Options, items: readonly Item[], sent: OpenLoopResult, arrivals: Arrivals, label: string): LatencyFigures {
  const { latencies, acks, fanouts, rows, lastArrival } = timeline(items, sent, arrivals);
  // BENCH_LATENCY_FILE=path: every callback's (sent offset, POST → answer, answer → event), to see when a tail happened.
  const file = process.env.BENCH_LATENCY_FILE;
  if (file !== undefined) writeFileSync(`${file}.${label}.tsv`, `sent_ms\tack_ms\tfanout_ms\n${rows.join("\n")}\n`);
  const windowMs = Math.max(lastArrival, sent.lastMs) - sent.firstMs + 1000 / o.rate;
  return {
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    ackP50Ms: percentile(acks, 50),
    ackP99Ms: percentile(acks, 99),
    fanoutP50Ms: percentile(fanouts, 50),
    fanoutP99Ms: percentile(fanouts, 99),
    achievedPerSec: latencies.length / (windowMs / 1000),
    delivered: latencies.length,
    offered: items.length,
    failedPosts: sent.failed,
    generatorLagMs: sent.maxLagMs,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withChildren<T>(children: Child[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const c of children) {
      await c.stop().catch(() => c.kill());
    }
  }
}

/** Opens `calls.length` streams from a fresh client process; RSS of the server before and after. */
async function openStreams(
  server: Child,
  port: number,
  calls: readonly { callId: string; afterSequence: number }[],
  connections: number,
): Promise<{ figures: StreamFigures; watchers: Child }> {
  const watchers = Child.start("./watchers.ts", []);
  const before = await server.call<Memory>("memory");
  await server.call("resetOpen");
  const allOpen = server.call<number>("waitOpen", { n: calls.length });
  const { startedAtMs } = await watchers.call<{ startedAtMs: number }>("open", { port, connections, calls });
  const openedAtMs = await allOpen;
  await sleep(1000);
  const after = await server.call<Memory>("memory");
  const arrivals = await watchers.call<Arrivals>("arrivals");
  if (arrivals.ended > 0) throw new Error(`${arrivals.ended} streams ended early: ${arrivals.errors.join("; ")}`);
  return {
    figures: {
      bytesPerStream: (after.rss - before.rss) / calls.length,
      heapPerStream: (after.heapUsed - before.heapUsed) / calls.length,
      openMs: openedAtMs - startedAtMs,
    },
    watchers,
  };
}

const sandboxBody = (c: WatchedCall, event: "ringing" | "answered", code: string, text: string) =>
  JSON.stringify({ callId: c.providerCallId, userData: c.callId, event, code, text, timestamp: new Date().toISOString() });

function kingsoftBatches(calls: readonly WatchedCall[], size: number): string[] {
  const reports = calls.map((c) => ({
    CallId: c.providerCallId,
    Status: "FAIL",
    ErrCode: "DH:0001",
    ErrDesc: "被叫忙",
    ExtId: c.callId,
    EndTime: "2025-01-01 08:00:05",
  }));
  const batches: string[] = [];
  for (let i = 0; i < reports.length; i += size) batches.push(JSON.stringify(reports.slice(i, i + size)));
  return batches;
}

function ingestRate(r: ClosedLoopResult, eventsPerBody: (i: number) => number, bodies: number, what: string): number {
  if (r.failed > 0) throw new Error(`${what}: ${r.failed} requests not OK (${JSON.stringify(r.statuses)})`);
  let events = 0;
  for (let i = 0; i < bodies; i++) events += eventsPerBody(i);
  return events / (r.elapsedMs / 1000);
}

async function runRound(o: Options, dir: string, log: (s: string) => void): Promise<Round> {
  const round: Round = {};
  const load = Child.start("./load.ts", []);
  return withChildren([load], async () => {
    // ---- bare grpc-js streams ----
    {
      const server = Child.start("./server.ts", ["stream-bare", mkdtempSync(join(dir, "bare-"))], ["--expose-gc"]);
      await withChildren([server], async () => {
        const { grpcPort } = await server.call<{ grpcPort: number }>("setup");
        const calls = Array.from({ length: o.streams }, () => ({ callId: "01JDX7T7ZK0Q1R2S3T4V5W6X7Y", afterSequence: 0 }));
        const { figures, watchers } = await openStreams(server, grpcPort, calls, o.connections);
        await watchers.call("close").catch(() => undefined);
        await watchers.stop();
        round.bare = figures;
        log(`bare grpc-js: ${figures.bytesPerStream.toFixed(0)} B RSS/stream, open ${figures.openMs.toFixed(0)} ms`);
      });
    }
    // ---- the real server ----
    const kingsoftCalls = Math.ceil(o.batchEvents / o.batch) * o.batch;
    let setup: RealSetup | undefined;
    {
      // BENCH_REAL_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the real server.
      const extra = (process.env.BENCH_REAL_ARGS ?? "").split(" ").filter(Boolean);
      const server = Child.start("./server.ts", ["real", mkdtempSync(join(dir, "real-"))], ["--expose-gc", ...extra]);
      await withChildren([server], async () => {
        log(`placing ${o.streams} sandbox and ${kingsoftCalls} kingsoft calls…`);
        setup = await server.call<RealSetup>("setup", { calls: o.streams, kingsoftCalls });
        // Internal consumers (the outcome-fallback dispatcher) subscribe too.
        const internal = await server.call<number>("subscribers");
        const { figures, watchers } = await openStreams(server, setup.grpcPort, setup.calls, o.connections);
        round.real = figures;
        log(`real: ${figures.bytesPerStream.toFixed(0)} B RSS/stream, open ${figures.openMs.toFixed(0)} ms`);
        const subscribers = await server.call<number>("subscribers");
        if (subscribers - internal !== o.streams) {
          throw new Error(`${subscribers - internal} bus subscribers for ${o.streams} streams`);
        }

        // Callbacks into watched calls, open loop: POST → the event at the watching client.
        // Warm: a fixed pool of webhook connections opened first; cold (when there are
        // calls left for it): connections opened on demand during the run.
        const offered = o.rate * o.seconds;
        const sandboxUrl = setup.sandboxUrl;
        const pass = async (calls: readonly WatchedCall[], connections: number, label: string) => {
          const items: Item[] = calls.map((c) => ({ key: c.callId, body: sandboxBody(c, "ringing", "180", "Ringing") }));
          await watchers.call("resetArrivals");
          await server.call("stallsStart");
          const sent = await load.call<OpenLoopResult>("openLoop", { url: sandboxUrl, rate: o.rate, items, connections });
          let arrivals = await watchers.call<Arrivals>("arrivals");
          for (let i = 0; i < 40 && Object.keys(arrivals.first).length < sent.ok; i++) {
            await sleep(50);
            arrivals = await watchers.call<Arrivals>("arrivals");
          }
          const stalls = await server.call<Stalls>("stallsStop");
          const latency = latencyFigures(o, items, sent, arrivals, label);
          log(
            `callbacks at ${o.rate}/s, ${label} (${sent.connections} webhook connections): delivered ${latency.delivered}/${items.length}, ` +
              `p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms, ${latency.achievedPerSec.toFixed(0)}/s ` +
              `(POST → answer p50/p99 ${latency.ackP50Ms.toFixed(2)}/${latency.ackP99Ms.toFixed(2)} ms, ` +
              `answer → event ${latency.fanoutP50Ms.toFixed(2)}/${latency.fanoutP99Ms.toFixed(2)} ms); server loop delay ` +
              `p50/p99/max ${stalls.loopDelayP50Ms.toFixed(1)}/${stalls.loopDelayP99Ms.toFixed(1)}/${stalls.loopDelayMaxMs.toFixed(1)} ms, ` +
              `GC ${stalls.gcCount}× ${stalls.gcTotalMs.toFixed(0)} ms (max ${stalls.gcMaxMs.toFixed(1)} ms; by kind ${Object.entries(stalls.gcMaxMsByKind).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(", ")}); ` +
              `server CPU ${((stalls.cpuMs * 1000) / Math.max(1, sent.ok)).toFixed(0)} µs per callback`,
          );
          return { latency, stalls };
        };
        // The server has served no webhook yet: its first seconds of callbacks run cold code
        // (V8 compiles the hot path as it goes). Those are a pass of their own, reported
        // and not judged, like the cold-connection pass after the judged one.
        const warmupCalls = o.rate * o.warmupSeconds;
        const firstSeconds = await pass(setup.calls.slice(0, warmupCalls), o.webhookConnections, "first-seconds");
        round.firstSecondsLatency = firstSeconds.latency;
        const warm = await pass(setup.calls.slice(warmupCalls, warmupCalls + offered), o.webhookConnections, "warm");
        round.latency = warm.latency;
        round.stalls = warm.stalls;
        const left = setup.calls.slice(warmupCalls + offered, warmupCalls + 2 * offered);
        if (left.length > 0) round.coldLatency = (await pass(left, 0, "cold")).latency;
        await watchers.call("close").catch(() => undefined);
        await watchers.stop();

        // Ingest throughput, closed loop, no watchers.
        const single = setup.calls.map((c) => sandboxBody(c, "answered", "200", "Answered"));
        const s = await load.call<ClosedLoopResult>("closedLoop", { url: setup.sandboxUrl, concurrency: o.ingestConcurrency, bodies: single });
        const batches = kingsoftBatches(setup.kingsoftCalls, o.batch);
        const b = await load.call<ClosedLoopResult>("closedLoop", { url: setup.kingsoftUrl, concurrency: 4, bodies: batches });
        round.single = { real: ingestRate(s, () => 1, single.length, "real single"), bare: Number.NaN };
        round.batch = { real: ingestRate(b, () => o.batch, batches.length, "real batch"), bare: Number.NaN };
        await server.call("stop");
      });
    }
    // ---- bare node:http + better-sqlite3 ingest ----
    {
      const server = Child.start("./server.ts", ["sqlite-bare", mkdtempSync(join(dir, "sqlite-"))]);
      await withChildren([server], async () => {
        if (setup === undefined || round.single === undefined || round.batch === undefined) throw new Error("real round missing");
        const { url } = await server.call<{ url: string }>("setup");
        const single = setup.calls.map((c) => sandboxBody(c, "answered", "200", "Answered"));
        const s = await load.call<ClosedLoopResult>("closedLoop", { url, concurrency: o.ingestConcurrency, bodies: single });
        const commits = await server.call<number[]>("takeCommits");
        round.commitFloor = { p50Ms: percentile(commits, 50), p99Ms: percentile(commits, 99) };
        const batches = kingsoftBatches(setup.kingsoftCalls, o.batch);
        const b = await load.call<ClosedLoopResult>("closedLoop", { url, concurrency: 4, bodies: batches });
        round.single.bare = ingestRate(s, () => 1, single.length, "bare single");
        round.batch.bare = ingestRate(b, () => o.batch, batches.length, "bare batch");
        log(
          `ingest: single ${round.single.real.toFixed(0)} vs bare ${round.single.bare.toFixed(0)} callbacks/s; ` +
            `batches ${round.batch.real.toFixed(0)} vs bare ${round.batch.bare.toFixed(0)} events/s; ` +
            `bare commit (one sync) p50 ${round.commitFloor.p50Ms.toFixed(2)} ms, p99 ${round.commitFloor.p99Ms.toFixed(2)} ms`,
        );
      });
    }
    return round;
  });
}

// ---- report ----

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
function spread(values: readonly number[], digits: number): string {
  const text = median(values).toFixed(digits);
  return values.length < 2 ? text : `${text} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

function report(o: Options, rounds: readonly Round[]): string {
  const pick = <T>(f: (r: Round) => T | undefined): T[] => rounds.flatMap((r) => {
    const v = f(r);
    return v === undefined ? [] : [v];
  });
  const rssRatio = pick((r) => (r.real && r.bare ? r.real.bytesPerStream / r.bare.bytesPerStream : undefined));
  const openRatio = pick((r) => (r.real && r.bare ? r.real.openMs / r.bare.openMs : undefined));
  const singleRatio = pick((r) => (r.single ? r.single.real / r.single.bare : undefined));
  const batchRatio = pick((r) => (r.batch ? r.batch.real / r.batch.bare : undefined));
  const p99 = pick((r) => r.latency?.p99Ms);
  const achieved = pick((r) => r.latency?.achievedPerSec);
  const kb = (v: number[]) => spread(v.map((x) => x / 1024), 1);
  const lines = [
    `| case | voicecode | bare baseline | ratio | target | result |`,
    `|---|---:|---:|---:|---:|---|`,
    `| ${o.streams} idle WatchStatus streams: server RSS per stream (KiB) | ${kb(pick((r) => r.real?.bytesPerStream))} | ${kb(pick((r) => r.bare?.bytesPerStream))} | ${spread(rssRatio, 2)} | ≤ ${TARGETS.rssPerStream} | ${verdict(median(rssRatio) <= TARGETS.rssPerStream)} |`,
    `| (heap per stream, KiB, for reference) | ${kb(pick((r) => r.real?.heapPerStream))} | ${kb(pick((r) => r.bare?.heapPerStream))} | | | |`,
    `| time to open ${o.streams} streams (ms) | ${spread(pick((r) => r.real?.openMs), 0)} | ${spread(pick((r) => r.bare?.openMs), 0)} | ${spread(openRatio, 2)} | ≤ ${TARGETS.openTime} | ${verdict(median(openRatio) <= TARGETS.openTime)} |`,
    `| callbacks into watched calls, offered ${o.rate}/s for ${o.seconds} s over ${o.webhookConnections} open webhook connections: achieved /s | ${spread(achieved, 0)} | | | ${TARGETS.rate}/s held (≥ 99 %) | ${verdict(o.rate >= TARGETS.rate && median(achieved) >= o.rate * 0.99 && rounds.every((r) => r.latency?.delivered === r.latency?.offered))} |`,
    `| … POST → event at the client, p50 / p99 / max (ms) | ${spread(pick((r) => r.latency?.p50Ms), 2)} / ${spread(p99, 2)} / ${spread(pick((r) => r.latency?.maxMs), 1)} | | | p99 ≤ ${TARGETS.p99Ms} | ${verdict(median(p99) <= TARGETS.p99Ms)} |`,
    `| … POST → webhook answer, p50 / p99; answer → event at the client, p50 / p99 (ms) | ${spread(pick((r) => r.latency?.ackP50Ms), 2)} / ${spread(pick((r) => r.latency?.ackP99Ms), 2)}; ${spread(pick((r) => r.latency?.fanoutP50Ms), 2)} / ${spread(pick((r) => r.latency?.fanoutP99Ms), 2)} | | | | |`,
    `| … the server's first ${o.warmupSeconds} s of webhooks (before the judged pass), p50 / p99 / max (ms) | ${spread(pick((r) => r.firstSecondsLatency?.p50Ms), 2)} / ${spread(pick((r) => r.firstSecondsLatency?.p99Ms), 2)} / ${spread(pick((r) => r.firstSecondsLatency?.maxMs), 1)} | | | (not judged) | |`,
    `| … cold: the same with no webhook connection open at the start (up to 256 opened on demand), p50 / p99 / max (ms) | ${spread(pick((r) => r.coldLatency?.p50Ms), 2)} / ${spread(pick((r) => r.coldLatency?.p99Ms), 2)} / ${spread(pick((r) => r.coldLatency?.maxMs), 1)} | | | (not judged) | |`,
    `| … the floor: one synchronous = FULL commit on this disk (bare server, same run), p50 / p99 (ms) | ${spread(pick((r) => r.commitFloor?.p50Ms), 2)} / ${spread(pick((r) => r.commitFloor?.p99Ms), 2)} | | | | |`,
    `| … the real server's event loop during the callbacks: delay p99 / max, GC pause max (ms) | ${spread(pick((r) => r.stalls?.loopDelayP99Ms), 1)} / ${spread(pick((r) => r.stalls?.loopDelayMaxMs), 1)}, ${spread(pick((r) => r.stalls?.gcMaxMs), 1)} | | | | |`,
    `| webhook ingest, single callbacks (callbacks/s, ${o.ingestConcurrency} in flight) | ${spread(pick((r) => r.single?.real), 0)} | ${spread(pick((r) => r.single?.bare), 0)} | ${spread(singleRatio, 2)} | ≥ ${TARGETS.singleIngest} | ${verdict(median(singleRatio) >= TARGETS.singleIngest)} |`,
    `| webhook ingest, Kingsoft batches of ${o.batch} (events/s, 4 in flight) | ${spread(pick((r) => r.batch?.real), 0)} | ${spread(pick((r) => r.batch?.bare), 0)} | ${spread(batchRatio, 2)} | ≥ ${TARGETS.batchIngest} | ${verdict(median(batchRatio) >= TARGETS.batchIngest)} |`,
  ];
  const lag = pick((r) => r.latency?.generatorLagMs);
  const failed = pick((r) => r.latency?.failedPosts).reduce((a, b) => a + b, 0);
  lines.push("", `Load generator's worst lag behind its schedule: ${spread(lag, 1)} ms; callback POSTs not answered 200: ${failed}.`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = parseOptions();
  build();
  const cpu = cpus();
  console.log(`node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "?"}; ${JSON.stringify(o)}\n`);
  const dir = mkdtempSync(join(tmpdir(), "voicecode-bench-scale-"));
  const rounds: Round[] = [];
  try {
    for (let r = 1; r <= o.rounds; r++) {
      rounds.push(await runRound(o, dir, (s) => console.error(`round ${r}  ${s}`)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(report(o, rounds));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
