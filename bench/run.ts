/**
 * gRPC-port benchmarks: h2load against each target, reported as ratios to a bare
 * node:http2 server (A) measured in the same round. See bench/README.md.
 *
 *   npx tsx bench/run.ts [--rounds 3] [--duration 5] [--warmup 2] [--clients 4] [--streams 32] [--only B,C,D-get,E,D-send,P-get,P-send]
 *
 * Target P (the real server on PostgreSQL) gets a fresh database per start, created through
 * VOICECODE_BENCH_DATABASE_URL and dropped after; without a reachable server its cases are
 * skipped, with a line saying so.
 *
 * Each target runs in a child process of its own (bench/targets.ts); h2load is another
 * process; this one only orchestrates, and is idle while h2load runs.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { OutgoingHttpHeaders } from "node:http2";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import {
  CallState,
  GetCallRequestSchema,
  GetCallResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
} from "../gen/voicecode/v1/voicecode_pb.js";
import { H2LOAD, type H2loadResult, h2loadVersion, runH2load } from "./h2load.js";
import { ADMIN_URL_SHOWN, postgresProblem, withBenchDatabase } from "./postgres.js";
import { type ProbeResponse, grpcFrame, grpcUnaryMessage, probe } from "./probe.js";
import { type FromChild, TARGET_DATABASE_URL, type Tally, type TargetName, type ToChild } from "./protocol.js";

type Ready = Extract<FromChild, { type: "ready" }>;

interface Case {
  readonly id: string;
  readonly target: TargetName;
  readonly measures: string;
  readonly protocol: "grpc" | "connect";
  readonly path: string;
  port(ready: Ready): number;
  body(ready: Ready): Uint8Array;
  /** Throws unless one response is the right one. */
  validate(response: ProbeResponse, ready: Ready): void;
}

const GRPC_HEADERS: OutgoingHttpHeaders = { "content-type": "application/grpc", te: "trailers" };
const CONNECT_HEADERS: OutgoingHttpHeaders = { "content-type": "application/json", "connect-protocol-version": "1" };
const GET_CALL = "/voicecode.v1.VoiceCode/GetCall";
const SEND = "/voicecode.v1.VoiceCode/Send";
/** Any id: A, B and C never look at it. */
const SOME_CALL_ID = "01JDX7T7ZK0Q1R2S3T4V5W6X7Y";

const getCallBody = (callId: string) => grpcFrame(toBinary(GetCallRequestSchema, create(GetCallRequestSchema, { callId })));

function readyCallId(ready: Ready): string {
  if (ready.callId === undefined) throw new Error("the real server reported no call id");
  return ready.callId;
}

function expectGetCall(response: ProbeResponse, callId: string | undefined): void {
  const message = fromBinary(GetCallResponseSchema, grpcUnaryMessage(response));
  if (message.call === undefined || message.events.length === 0) throw new Error("GetCall answered without call or events");
  if (callId !== undefined && message.call.callId !== callId) throw new Error(`GetCall answered call ${message.call.callId}`);
}

// No idempotency key: every request places a new call.
const sendBody = () =>
  grpcFrame(
    toBinary(SendRequestSchema, create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: "bench" })),
  );

function expectSend(response: ProbeResponse): void {
  const message = fromBinary(SendResponseSchema, grpcUnaryMessage(response));
  if (message.state !== CallState.ACCEPTED || message.callId === "") {
    throw new Error(`Send answered state ${CallState[message.state]}`);
  }
}

const CASES: readonly Case[] = [
  {
    id: "A",
    target: "A",
    measures: "bare node:http2, fixed gRPC response (floor)",
    protocol: "grpc",
    path: GET_CALL,
    port: (ready) => ready.grpcPort,
    body: () => getCallBody(SOME_CALL_ID),
    validate: (response) => {
      grpcUnaryMessage(response);
    },
  },
  {
    id: "B",
    target: "B",
    measures: "createGrpcServer (grpc-js + protobuf-es), no-op GetCall",
    protocol: "grpc",
    path: GET_CALL,
    port: (ready) => ready.grpcPort,
    body: () => getCallBody(SOME_CALL_ID),
    validate: (response) => expectGetCall(response, SOME_CALL_ID),
  },
  {
    id: "C",
    target: "C",
    measures: "connect-node gRPC handler, no-op GetCall",
    protocol: "grpc",
    path: GET_CALL,
    port: (ready) => ready.grpcPort,
    body: () => getCallBody(SOME_CALL_ID),
    validate: (response) => expectGetCall(response, SOME_CALL_ID),
  },
  {
    id: "D-get",
    target: "D",
    measures: "real server, gRPC GetCall (SQLite read)",
    protocol: "grpc",
    path: GET_CALL,
    port: (ready) => ready.grpcPort,
    body: (ready) => getCallBody(readyCallId(ready)),
    validate: (response, ready) => expectGetCall(response, readyCallId(ready)),
  },
  {
    id: "E",
    target: "D",
    measures: "real server, API port Connect JSON GetCall (h2c)",
    protocol: "connect",
    path: GET_CALL,
    port: (ready) => {
      if (ready.apiPort === undefined) throw new Error("target D reported no API port");
      return ready.apiPort;
    },
    body: (ready) =>
      Buffer.from(toJsonString(GetCallRequestSchema, create(GetCallRequestSchema, { callId: readyCallId(ready) }))),
    validate: (response, ready) => {
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.body}`);
      const json: unknown = JSON.parse(response.body.toString("utf8"));
      const callId = (json as { call?: { callId?: unknown } }).call?.callId;
      if (callId !== readyCallId(ready)) throw new Error(`GetCall (Connect) answered ${response.body}`);
    },
  },
  {
    id: "D-send",
    target: "D",
    measures: "real server, gRPC Send (new call row + ACCEPTED event)",
    protocol: "grpc",
    path: SEND,
    port: (ready) => ready.grpcPort,
    body: sendBody,
    validate: expectSend,
  },
  {
    id: "R-route",
    target: "R",
    measures: "real server, routed Send: first provider refuses, failover to the second",
    protocol: "grpc",
    path: SEND,
    port: (ready) => ready.grpcPort,
    body: sendBody,
    validate: (response) => {
      const message = fromBinary(SendResponseSchema, grpcUnaryMessage(response));
      if (message.state !== CallState.ACCEPTED || message.attempts.length !== 2) {
        throw new Error(`routed Send answered ${CallState[message.state]} after ${message.attempts.length} attempts`);
      }
    },
  },
  {
    id: "R-pinned",
    target: "R",
    measures: "same server, Send pinned to the second provider (one attempt)",
    protocol: "grpc",
    path: SEND,
    port: (ready) => ready.grpcPort,
    body: () =>
      grpcFrame(
        toBinary(
          SendRequestSchema,
          create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: "bench", provider: "kingsoft" }),
        ),
      ),
    validate: expectSend,
  },
  {
    id: "P-get",
    target: "P",
    measures: "real server on PostgreSQL, gRPC GetCall",
    protocol: "grpc",
    path: GET_CALL,
    port: (ready) => ready.grpcPort,
    body: (ready) => getCallBody(readyCallId(ready)),
    validate: (response, ready) => expectGetCall(response, readyCallId(ready)),
  },
  {
    id: "P-send",
    target: "P",
    measures: "real server on PostgreSQL, gRPC Send",
    protocol: "grpc",
    path: SEND,
    port: (ready) => ready.grpcPort,
    body: sendBody,
    validate: expectSend,
  },
];

interface Options {
  readonly rounds: number;
  readonly duration: number;
  readonly warmup: number;
  readonly clients: number;
  readonly streams: number;
  readonly only: ReadonlySet<string> | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "1" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "2" },
      clients: { type: "string", default: "4" },
      streams: { type: "string", default: "32" },
      only: { type: "string" },
    },
  });
  const positive = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${value}`);
    return n;
  };
  const only = values.only === undefined ? undefined : new Set(values.only.split(",").map((s) => s.trim()));
  const unknown = [...(only ?? [])].filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`--only: unknown case ${unknown.join(", ")} (cases: ${CASES.map((c) => c.id).join(", ")})`);
  only?.add("A"); // the ratios need the baseline
  return {
    rounds: positive("rounds", values.rounds),
    duration: positive("duration", values.duration),
    warmup: positive("warmup", values.warmup),
    clients: positive("clients", values.clients),
    streams: positive("streams", values.streams),
    only,
  };
}

// ---- the child processes ----

class Target {
  private readonly queue: FromChild[] = [];
  private readonly waiters: ((message: FromChild) => void)[] = [];

  private constructor(readonly child: ChildProcess) {
    child.on("message", (message: FromChild) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
  }

  static async start(name: TargetName, dir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ target: Target; ready: Ready }> {
    // fork() passes on this process's execArgv, so the child runs under tsx too.
    const child = fork(new URL("./targets.ts", import.meta.url), [name, dir], {
      env,
      // BENCH_CHILD_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles every target.
      execArgv: [...process.execArgv, ...(process.env.BENCH_CHILD_ARGS ?? "").split(" ").filter(Boolean)],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const target = new Target(child);
    const ready = await target.next("ready");
    return { target, ready };
  }

  async tally(): Promise<Tally> {
    this.send({ type: "tally" });
    return (await this.next("tally")).tally;
  }

  async stop(): Promise<void> {
    const exited = once(this.child, "exit");
    this.send({ type: "stop" });
    await this.next("stopped");
    await exited;
  }

  /** Last resort after a failure: this child only, by its pid. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }

  private send(message: ToChild): void {
    // Sending to a dead child would emit an unhandled 'error' and end this process before
    // its cleanup (temp dir, P's database); throwing lets the run fail through it instead.
    if (!this.child.connected) throw new Error(`target exited (${this.child.exitCode ?? this.child.signalCode})`);
    this.child.send(message);
  }

  private next<T extends FromChild["type"]>(type: T): Promise<Extract<FromChild, { type: T }>> {
    const isType = (message: FromChild): message is Extract<FromChild, { type: T }> => message.type === type;
    const queued = this.queue.shift();
    if (queued !== undefined) {
      return isType(queued) ? Promise.resolve(queued) : Promise.reject(new Error(`expected ${type}, got ${queued.type}`));
    }
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`target exited (${code}) while waiting for ${type}`));
      this.child.once("exit", onExit);
      this.waiters.push((message) => {
        this.child.off("exit", onExit);
        if (isType(message)) resolve(message);
        else reject(new Error(`expected ${type}, got ${message.type}`));
      });
    });
  }
}

// ---- one measurement ----

interface Measurement {
  readonly caseId: string;
  readonly result: H2loadResult;
  readonly tally: Tally;
}

const sum = (counts: Record<string, number>, keep: (key: string) => boolean) =>
  Object.entries(counts).reduce((total, [key, n]) => (keep(key) ? total + n : total), 0);

/** Every response since the last tally was OK, and at least as many as h2load counted. */
function verifyTally(c: Case, tally: Tally, result: H2loadResult): void {
  const ok = c.protocol === "grpc" ? (tally.grpcStatus["0"] ?? 0) : (tally.httpStatus["200"] ?? 0);
  const notOk =
    sum(tally.httpStatus, (status) => status !== "200") +
    sum(tally.grpcStatus, (status) => c.protocol === "connect" || status !== "0");
  const problems: string[] = [];
  if (result.failed > 0) problems.push(`h2load counted ${result.failed} failed/errored/timed-out requests`);
  if (notOk > 0) problems.push(`the server sent ${notOk} responses that were not OK`);
  if (ok < result.status2xx) problems.push(`the server sent ${ok} OK responses, h2load counted ${result.status2xx} 2xx`);
  if (result.status2xx === 0) problems.push("no request succeeded");
  if (problems.length > 0) {
    throw new Error(`${c.id}: ${problems.join("; ")} (tally ${JSON.stringify(tally)})`);
  }
}

async function measure(c: Case, target: Target, ready: Ready, options: Options, dir: string): Promise<Measurement> {
  const origin = `http://127.0.0.1:${c.port(ready)}`;
  const body = c.body(ready);
  const headers = c.protocol === "grpc" ? GRPC_HEADERS : CONNECT_HEADERS;
  const check = async (when: string) => {
    try {
      c.validate(await probe(origin, c.path, headers, body), ready);
    } catch (err) {
      throw new Error(`${c.id}: the ${when} check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const bodyFile = join(dir, `${c.id}.body`);
  writeFileSync(bodyFile, body);

  await check("pre-load");
  await target.tally(); // start counting from here
  const result = await runH2load({
    url: `${origin}${c.path}`,
    bodyFile,
    headers: Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}`),
    clients: options.clients,
    streams: options.streams,
    warmupSeconds: options.warmup,
    durationSeconds: options.duration,
    logFile: join(dir, `${c.id}.log`),
  });
  const tally = await target.tally();
  verifyTally(c, tally, result);
  await check("post-load");
  return { caseId: c.id, result, tally };
}

// ---- the report ----

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function spread(values: readonly number[], digits: number): string {
  const text = median(values).toFixed(digits);
  if (values.length < 2) return text;
  return `${text} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row, r) => {
      const line = row.map((cell, i) => (i === 0 || i === 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)));
      return r === 0 ? `${line.join("  ")}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line.join("  ");
    })
    .join("\n");
}

function report(cases: readonly Case[], rounds: readonly Map<string, Measurement>[]): string {
  const perRound = (id: string, pick: (m: Measurement, round: Map<string, Measurement>) => number) =>
    rounds.flatMap((round) => {
      const m = round.get(id);
      return m === undefined ? [] : [pick(m, round)];
    });
  const rps = (round: Map<string, Measurement>, id: string) => round.get(id)?.result.reqPerSec ?? Number.NaN;
  const cpu = (round: Map<string, Measurement>, id: string) => {
    const m = round.get(id);
    return m === undefined ? Number.NaN : cpuPerResponse(m);
  };

  const rows: string[][] = [["case", "measures", "req/s", "× A", "p50 ms", "p99 ms", "CPU µs/req"]];
  for (const c of cases) {
    rows.push([
      c.id,
      c.measures,
      spread(perRound(c.id, (m) => m.result.reqPerSec), 0),
      spread(perRound(c.id, (m, round) => m.result.reqPerSec / rps(round, "A")), 2),
      spread(perRound(c.id, (m) => m.result.p50Ms), 2),
      spread(perRound(c.id, (m) => m.result.p99Ms), 2),
      spread(perRound(c.id, cpuPerResponse), 0),
    ]);
  }
  const lines = [table(rows)];
  const ratio = (label: string, top: string, bottom: string) => {
    const values = rounds.map((round) => rps(round, top) / rps(round, bottom)).filter((v) => Number.isFinite(v));
    // The same ratio from server CPU per response (bottom's ÷ top's): what the rates would
    // be if each server had a core to itself; steadier when other jobs share the machine.
    const byCpu = rounds.map((round) => cpu(round, bottom) / cpu(round, top)).filter((v) => Number.isFinite(v));
    if (values.length > 0) lines.push(`${label.padEnd(46)} ${spread(values, 2).padEnd(18)} by CPU/req ${spread(byCpu, 2)}`);
  };
  lines.push("");
  ratio("B / C  (grpc-js ÷ connect-node gRPC, no-op)", "B", "C");
  ratio("D-get / B  (real read path ÷ no-op grpc-js)", "D-get", "B");
  ratio("E / D-get  (Connect JSON ÷ gRPC, same read)", "E", "D-get");
  ratio("D-send / B  (Send ÷ no-op grpc-js)", "D-send", "B");
  ratio("D-send / D-get  (write ÷ read)", "D-send", "D-get");
  ratio("P-get / D-get  (PostgreSQL ÷ SQLite, read)", "P-get", "D-get");
  ratio("P-send / D-send  (PostgreSQL ÷ SQLite, Send)", "P-send", "D-send");
  ratio("R-route / R-pinned  (failover ÷ one provider)", "R-route", "R-pinned");
  if (rounds.length > 1) lines.push(`\nmedian (min–max) of ${rounds.length} rounds; each ratio is taken within its round`);
  return lines.join("\n");
}

/** Server CPU per OK response over the tally's window (warm-up and measured phase). */
function cpuPerResponse(m: Measurement): number {
  const ok = (m.tally.grpcStatus["0"] ?? 0) + (m.tally.grpcStatus["0"] === undefined ? (m.tally.httpStatus["200"] ?? 0) : 0);
  return ok > 0 ? m.tally.cpuMicros / ok : Number.NaN;
}

// ---- main ----

async function main(): Promise<number> {
  const version = h2loadVersion();
  if (version === undefined) {
    console.error(`${H2LOAD} not found. Install it: apt-get install nghttp2-client (or set H2LOAD=/path/to/h2load)`);
    return 1;
  }
  const options = parseOptions();
  const selected = CASES.filter((c) => options.only === undefined || options.only.has(c.id));
  // Asked once, before round 1: every round then has the same cases.
  const pgProblem = selected.some((c) => c.target === "P") ? await postgresProblem() : undefined;
  const cases = pgProblem === undefined ? selected : selected.filter((c) => c.target !== "P");
  const targets = [...new Set(cases.map((c) => c.target))];
  const cpu = cpus();
  console.log(
    `node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${version}\n` +
      `h2load -t1 -c${options.clients} -m${options.streams}, ${options.warmup} s warm-up + ${options.duration} s per case, ` +
      `${options.rounds} round(s)\n`,
  );
  if (pgProblem !== undefined) {
    const skipped = selected.filter((c) => c.target === "P").map((c) => c.id);
    console.log(
      `${skipped.join(", ")} skipped: PostgreSQL at ${ADMIN_URL_SHOWN} is unreachable (${pgProblem}). ` +
        "Set VOICECODE_BENCH_DATABASE_URL to a server's admin URL to run them.\n",
    );
  }

  const dir = mkdtempSync(join(tmpdir(), "voicecode-bench-run-"));
  const rounds: Map<string, Measurement>[] = [];
  try {
    for (let r = 1; r <= options.rounds; r++) {
      const round = new Map<string, Measurement>();
      rounds.push(round);
      const runTarget = async (name: TargetName, env?: NodeJS.ProcessEnv) => {
        const scratch = mkdtempSync(join(dir, `${name}-`));
        const { target, ready } = await Target.start(name, scratch, env);
        try {
          for (const c of cases.filter((x) => x.target === name)) {
            const m = await measure(c, target, ready, options, dir);
            round.set(c.id, m);
            console.error(
              `round ${r}  ${c.id.padEnd(6)} ${m.result.reqPerSec.toFixed(0).padStart(7)} req/s  ` +
                `p50 ${m.result.p50Ms.toFixed(2)} ms  p99 ${m.result.p99Ms.toFixed(2)} ms  ` +
                `(${m.result.status2xx} OK in the measured phase, all ${m.tally.grpcStatus["0"] ?? m.tally.httpStatus["200"]} server responses OK)`,
            );
          }
          await target.stop();
        } catch (err) {
          target.kill();
          throw err;
        }
      };
      for (const name of targets) {
        if (name === "P") {
          // A fresh database per start, as D gets a fresh file; dropped even if the run fails.
          await withBenchDatabase((url) => runTarget(name, { ...process.env, [TARGET_DATABASE_URL]: url }));
        } else {
          await runTarget(name);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(report(cases, rounds));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
