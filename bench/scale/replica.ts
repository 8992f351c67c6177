/**
 * One replica of the two-replica bench (replicas.ts), in a child process of its own: the
 * real server from dist/ (what production runs, see server.ts), on the PostgreSQL
 * database or the SQLite file the orchestrator names. Sandbox callbacks are an hour away,
 * so only the bench's POSTs arrive; limits are off (the bench sends to one number).
 */
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import type { RunningServer } from "../../src/server.js";
import { serve } from "./ipc.js";
import type { WatchedCall } from "./server.js";
import { fromDist } from "./dist.js";

const HOST = "127.0.0.1";
const CALLER = { tenant: "default" } as const;

export interface ReplicaSetup {
  readonly grpcPort: number;
  readonly sandboxUrl: string;
}

let server: RunningServer | undefined;
let placeCall: ((i: number) => Promise<WatchedCall>) | undefined;

/** `databaseUrl` (PostgreSQL) comes over IPC, not argv, which `ps` would show. */
async function setup(args: { databaseUrl?: string; dir: string }): Promise<ReplicaSetup> {
  const { NO_LIMITS_ENV, SendRequestSchema, parseConfig, startServer } = await fromDist();
  const storage: Record<string, string> =
    args.databaseUrl === undefined ? { VOICECODE_DB_PATH: join(args.dir, "voicecode.db") } : { DATABASE_URL: args.databaseUrl };
  const parsed = parseConfig({
    VOICECODE_HOST: HOST,
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    ...storage,
    VOICECODE_SERVER_SECRET: "bench-server-secret-0123456789abcdefghij",
    VOICECODE_LOG_LEVEL: "silent",
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    VOICECODE_SHUTDOWN_GRACE_MS: "5000",
    ...NO_LIMITS_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const running = await startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  server = running;
  if (running.sandboxCallbackUrl === undefined) throw new Error("no sandbox callback URL");
  placeCall = async (i) => {
    const sent = await running.service.send(
      create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: `replicas-${i}` }),
      new AbortController().signal,
      CALLER,
    );
    const events = await running.store.listEvents({ callId: sent.callId }, 0, 1000);
    return { callId: sent.callId, providerCallId: sent.providerCallId, afterSequence: events.at(-1)?.sequence ?? 0 };
  };
  return { grpcPort: running.grpcPort, sandboxUrl: running.sandboxCallbackUrl };
}

/** Places `n` calls through the real Send path, `concurrency` at a time. */
async function place(args: { n: number; concurrency: number }): Promise<WatchedCall[]> {
  const one = placeCall;
  if (one === undefined) throw new Error("setup first");
  const calls = new Array<WatchedCall>(args.n);
  let next = 0;
  const worker = async () => {
    while (next < args.n) {
      const i = next++;
      calls[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.n) }, worker));
  return calls;
}

serve({
  setup,
  place,
  subscribers: () => server?.bus.subscriberCount ?? 0,
  /** This process's CPU time so far (µs), for CPU per callback. */
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  },
  stop: async () => {
    await server?.stop();
  },
});
