/**
 * One benchmark target, run by bench/run.ts in a child process of its own (argv[2] names
 * it), so every server has a core's worth of event loop to itself and starts from a cold,
 * clean heap: nothing of the orchestrator or of an earlier target shares its loop or JIT.
 *
 *   A  bare node:http2 answering every POST with a fixed gRPC response (the floor)
 *   B  createGrpcServer (grpc-js + protobuf-es) with no-op handlers
 *   C  connect-node's gRPC handler on node:http2 with the same no-op handlers
 *   D  the real server (startServer: SQLite file, sandbox provider, log level silent)
 *   P  the same real server on PostgreSQL (a fresh database the parent created)
 *
 * Every response any HTTP/2 server stream of this process sends is tallied (by :status
 * and grpc-status) so the parent can prove a run was all OK, not a benchmark of errors.
 */
import { once } from "node:events";
import {
  type Http2Server,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
  type ServerStreamResponseOptions,
  connect,
  createServer,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pino } from "pino";
import {
  CallSchema,
  CheckResponseSchema,
  CallState,
  GetCallResponseSchema,
  NotifyResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
  StatusEventSchema,
  VoiceCode,
  type WatchStatusResponse,
} from "../gen/voicecode/v1/voicecode_pb.js";
import { createGrpcServer } from "../src/api/grpc/server.js";
import { createHealth } from "../src/api/health.js";
import { NO_LIMITS_ENV, parseConfig } from "../src/config.js";
import type { VoiceCodeHandlers } from "../src/core/handlers.js";
import { startServer } from "../src/server.js";
import { startKingsoftFake } from "../test/fakes/kingsoft.js";
import { startTencentFake } from "../test/fakes/tencent.js";
import { type FromChild, TARGET_DATABASE_URL, type Tally, type TargetName, type ToChild } from "./protocol.js";

const BENCH_CALLER = { tenant: "default" } as const;

const HOST = "127.0.0.1";

interface Started {
  readonly ready: Extract<FromChild, { type: "ready" }>;
  stop(): Promise<void>;
}

// ---- the no-op handlers (B and C): constant responses shaped like the real ones ----

const T0 = Date.UTC(2025, 0, 1);
const CALL_ID = "01JDX7T7ZK0Q1R2S3T4V5W6X7Y";
const PROVIDER_CALL_ID = `sbx_${CALL_ID}`;

const SEND_RESPONSE = create(SendResponseSchema, {
  callId: CALL_ID,
  provider: "sandbox",
  providerCallId: PROVIDER_CALL_ID,
  state: CallState.ACCEPTED,
});

const GET_CALL_RESPONSE = create(GetCallResponseSchema, {
  call: create(CallSchema, {
    callId: CALL_ID,
    provider: "sandbox",
    providerCallId: PROVIDER_CALL_ID,
    phoneNumberMasked: "+86137****2222",
    playTimes: 2,
    clientReference: "bench",
    state: CallState.ACCEPTED,
    createTime: timestampFromMs(T0),
    updateTime: timestampFromMs(T0 + 5),
  }),
  events: [CallState.PENDING, CallState.ACCEPTED].map((state, i) =>
    create(StatusEventSchema, {
      sequence: BigInt(i + 1),
      callId: CALL_ID,
      clientReference: "bench",
      state,
      provider: "sandbox",
      providerCallId: i === 0 ? "" : PROVIDER_CALL_ID,
      occurTime: timestampFromMs(T0 + i * 5),
      recordTime: timestampFromMs(T0 + i * 5),
    }),
  ),
});

const noopHandlers: VoiceCodeHandlers = {
  send: async () => SEND_RESPONSE,
  notify: async () => create(NotifyResponseSchema, { callId: CALL_ID, provider: "sandbox", state: CallState.ACCEPTED }),
  getCall: async () => GET_CALL_RESPONSE,
  async *watchStatus(): AsyncGenerator<WatchStatusResponse> {},
  check: async () => create(CheckResponseSchema, {}),
};

// ---- targets ----

/** The floor: a valid gRPC unary response (one empty message) and nothing else. */
async function startA(): Promise<Started> {
  const emptyFrame = Buffer.alloc(5); // flags 0, length 0
  const server = createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => {});
    stream.once("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(emptyFrame);
    });
  });
  const port = await listenHttp2(server);
  return { ready: { type: "ready", grpcPort: port }, stop: () => closeHttp2(server) };
}

async function startB(): Promise<Started> {
  const grpc = createGrpcServer({ handlers: noopHandlers, health: createHealth(true) });
  const port = await grpc.listen(HOST, 0);
  return { ready: { type: "ready", grpcPort: port }, stop: () => grpc.drain() };
}

async function startC(): Promise<Started> {
  const server = createServer(
    connectNodeAdapter({
      routes: (router) => {
        router.service(VoiceCode, {
          send: (request, ctx) => noopHandlers.send(request, ctx.signal, BENCH_CALLER),
          getCall: (request, ctx) => noopHandlers.getCall(request, ctx.signal, BENCH_CALLER),
          watchStatus: (request, ctx) => noopHandlers.watchStatus(request, ctx.signal, BENCH_CALLER),
        });
      },
    }),
  );
  const port = await listenHttp2(server);
  return { ready: { type: "ready", grpcPort: port }, stop: () => closeHttp2(server) };
}

/** `dir` belongs to the parent, which deletes it even if this process is killed. */
function startD(dir: string): Promise<Started> {
  const thread = process.env.VOICECODE_SQLITE_THREAD;
  // Both ways of running the store, from one build: VOICECODE_SQLITE_THREAD=true npx tsx bench/run.ts
  return startReal({ VOICECODE_DB_PATH: join(dir, "voicecode.db"), ...(thread === undefined ? {} : { VOICECODE_SQLITE_THREAD: thread }) });
}

/**
 * The database belongs to the parent, which drops it even if this process is killed. Its
 * URL comes in the environment, not argv: argv shows in `ps`, with any password in it.
 */
function startP(): Promise<Started> {
  const databaseUrl = process.env[TARGET_DATABASE_URL];
  if (databaseUrl === undefined) throw new Error(`target P needs ${TARGET_DATABASE_URL} from bench/run.ts`);
  // The pool size and catch-up period stay at their production defaults.
  return startReal({ DATABASE_URL: databaseUrl, VOICECODE_SERVER_SECRET: "bench-server-secret-0123456789abcdefghij" });
}

/**
 * Routing: a three-provider route (tencent, kingsoft, sandbox) whose first provider
 * refuses every request (the Tencent contract fake given the wrong secret key: an
 * AuthFailure, definitively not placed), so every routed Send is refused, recorded and
 * failed over to kingsoft (its contract fake accepts). The breaker is kept closed (its
 * threshold at the maximum, 1000, and the cool-down short) so most Sends pay the refusal. R-pinned sends to kingsoft by name in the same process.
 */
async function startR(dir: string): Promise<Started> {
  const tencent = await startTencentFake({ stepMs: 3_600_000 });
  const kingsoft = await startKingsoftFake({ stepMs: 3_600_000 });
  const started = await startReal({
    VOICECODE_DB_PATH: join(dir, "voicecode-routing.db"),
    ...tencent.env,
    VOICECODE_TENCENT_SECRET_KEY: "not-the-fake-secret-key-0000000000",
    VOICECODE_TENCENT_WEBHOOK_TOKEN: "bench-webhook-token-0123456789",
    ...kingsoft.env,
    VOICECODE_KINGSOFT_WEBHOOK_TOKEN: "bench-webhook-token-0123456789",
    VOICECODE_ROUTES: "+86=tencent,kingsoft,sandbox",
    VOICECODE_BREAKER_FAILURES: "1000",
    VOICECODE_BREAKER_COOLDOWN_MS: "0",
    VOICECODE_PROVIDER_RATE_LIMITS: "tencent=0",
  });
  return {
    ready: started.ready,
    stop: async () => {
      await started.stop();
      await tencent.close();
      await kingsoft.close();
    },
  };
}

/** startServer with everything but the storage engine fixed, so D and P differ by that alone. */
async function startReal(storage: Record<string, string>): Promise<Started> {
  const parsed = parseConfig({
    VOICECODE_HOST: HOST,
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    ...storage,
    VOICECODE_LOG_LEVEL: "silent",
    // An hour per step: no sandbox callback fires during the run.
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    VOICECODE_SHUTDOWN_GRACE_MS: "5000",
    // The bench sends to one number over and over: limits would measure refusals.
    ...NO_LIMITS_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const server = await startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  const sent = await server.service.send(
    create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", playTimes: 2, clientReference: "bench" }),
    new AbortController().signal,
    BENCH_CALLER,
  );
  return {
    ready: { type: "ready", grpcPort: server.grpcPort, apiPort: server.apiPort, callId: sent.callId },
    stop: () => server.stop(),
  };
}

function listenHttp2(server: Http2Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp2(server: Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

// ---- the tally: wraps respond/sendTrailers of every server stream in this process ----

// Plain counters for the common case: the wrappers run on every response of the run.
let http200 = 0;
let grpc0 = 0;
let rest: Omit<Tally, "cpuMicros"> = emptyTally();

function emptyTally(): Omit<Tally, "cpuMicros"> {
  return { httpStatus: {}, grpcStatus: {} };
}

let cpuSince = process.cpuUsage();

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function countHttp(status: unknown): void {
  if (status === 200 || status === "200" || status === undefined) http200++;
  else bump(rest.httpStatus, String(status));
}

function countGrpc(status: unknown): void {
  if (status === "0" || status === 0) grpc0++;
  else if (status !== undefined) bump(rest.grpcStatus, String(status));
}

/** The tally so far, and a new one started. */
function takeTally(): Tally {
  const cpu = process.cpuUsage(cpuSince);
  cpuSince = process.cpuUsage();
  const taken: Tally = {
    cpuMicros: cpu.user + cpu.system,
    httpStatus: http200 > 0 ? { ...rest.httpStatus, "200": http200 } : rest.httpStatus,
    grpcStatus: grpc0 > 0 ? { ...rest.grpcStatus, "0": grpc0 } : rest.grpcStatus,
  };
  http200 = 0;
  grpc0 = 0;
  rest = emptyTally();
  return taken;
}

/**
 * node:http2 doesn't export ServerHttp2Stream, and grpc-js and connect-node each own
 * their server, so take the prototype from one real stream of a throwaway server.
 */
async function installTally(): Promise<void> {
  const server = createServer();
  const first = once(server, "stream") as Promise<[ServerHttp2Stream]>;
  const port = await listenHttp2(server);
  const client = connect(`http://${HOST}:${port}`);
  const request = client.request({ ":path": "/" });
  request.end();
  request.resume();
  const [stream] = await first;
  const proto = Object.getPrototypeOf(stream) as ServerHttp2Stream;
  stream.respond({ ":status": 204 }, { endStream: true });
  await once(request, "close");
  client.close();
  await closeHttp2(server);

  const respond = proto.respond;
  const sendTrailers = proto.sendTrailers;
  proto.respond = function (this: ServerHttp2Stream, headers?: OutgoingHttpHeaders, options?: ServerStreamResponseOptions) {
    countHttp(headers?.[":status"]);
    countGrpc(headers?.["grpc-status"]);
    respond.call(this, headers, options);
  };
  proto.sendTrailers = function (this: ServerHttp2Stream, headers: OutgoingHttpHeaders) {
    countGrpc(headers["grpc-status"]);
    sendTrailers.call(this, headers);
  };
}

// ---- main ----

const starters: Record<TargetName, (dir: string) => Promise<Started>> = {
  A: startA,
  B: startB,
  C: startC,
  D: startD,
  P: startP,
  R: startR,
};

function send(message: FromChild): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const [name, dir] = process.argv.slice(2) as [TargetName | undefined, string | undefined];
  const start = name === undefined ? undefined : starters[name];
  if (start === undefined || dir === undefined || process.send === undefined) {
    throw new Error("bench/targets.ts is started by bench/run.ts (fork, args: A|B|C|D|P and a scratch directory)");
  }
  await installTally();
  const started = await start(dir);
  process.on("message", (message: ToChild) => {
    if (message.type === "tally") {
      send({ type: "tally", tally: takeTally() });
    } else if (message.type === "stop") {
      void started.stop().then(() => {
        send({ type: "stopped" });
        process.disconnect();
      });
    }
  });
  // The parent gone (crashed, killed) means this server has no reason to live.
  process.once("disconnect", () => process.exit(0));
  send(started.ready);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
