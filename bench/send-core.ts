/**
 * Send without the transport: the real server's service (SQLite file, sandbox provider,
 * no limits, logging silent, as bench D) called in process, `--concurrency` Sends in
 * flight. Prints Sends/s and the process's CPU time per Send. The CPU figure is the one
 * to compare between builds on a shared machine: it moves far less with other jobs'
 * load than any rate does. See bench/README.md ("Send: CPU per Send").
 *
 *   npx tsx bench/send-core.ts [--sends 20000] [--concurrency 128] [--postgres]
 *
 * `--postgres` runs the same on PostgreSQL (as bench P: a fresh database through
 * VOICECODE_BENCH_DATABASE_URL, dropped after) and also prints the round trips (queries
 * node-postgres sent) per Send and, when the server runs on this machine, PostgreSQL's own
 * CPU time per Send (every postgres process's, from /proc: on a shared machine it counts
 * other databases' work too).
 *
 * A warm-up of a quarter of `--sends` (at most 5 000) runs first and is not counted.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import pg from "pg";
import { pino } from "pino";
import { CallState, SendRequestSchema } from "../gen/voicecode/v1/voicecode_pb.js";
import { NO_LIMITS_ENV, parseConfig } from "../src/config.js";
import { type RunningServer, startServer } from "../src/server.js";
import { withBenchDatabase } from "./postgres.js";

const { values } = parseArgs({
  options: {
    sends: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "128" },
    postgres: { type: "boolean", default: false },
  },
});
const sends = Number(values.sends);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(sends) || sends < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  throw new Error("--sends and --concurrency take positive integers");
}

const request = create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: "bench" });
const caller = { tenant: "default" } as const;

/** Queries node-postgres was asked to send (each one round trip), counted by wrapping Client#query. */
let roundTrips = 0;
if (values.postgres) {
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
    roundTrips++;
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

/** CPU time (µs) of every process named postgres, plus what the postmaster collected from exited backends. */
function postgresCpuMicros(): number | undefined {
  let ticks = 0;
  let found = false;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (name !== "postgres") continue;
    found = true;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the name.
    for (const i of [11, 12, 13, 14]) ticks += Number(fields[i]);
  }
  return found ? (ticks * 1e6) / 100 : undefined;
}

interface Round {
  perSecond: number;
  cpuMicros: number;
  roundTrips: number;
  postgresCpuMicros: number | undefined;
}

async function round(server: RunningServer, count: number): Promise<Round> {
  const signal = new AbortController().signal;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      const response = await server.service.send(request, signal, caller);
      if (response.state !== CallState.ACCEPTED) throw new Error(`Send answered ${CallState[response.state]}`);
    }
  };
  const trips0 = roundTrips;
  const pg0 = values.postgres ? postgresCpuMicros() : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pg1 = values.postgres ? postgresCpuMicros() : undefined;
  return {
    perSecond: count / seconds,
    cpuMicros: (cpu.user + cpu.system) / count,
    roundTrips: (roundTrips - trips0) / count,
    postgresCpuMicros: pg0 === undefined || pg1 === undefined ? undefined : (pg1 - pg0) / count,
  };
}

async function measure(storage: Record<string, string>): Promise<void> {
  const parsed = parseConfig({
    VOICECODE_HOST: "127.0.0.1",
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    VOICECODE_LOG_LEVEL: "silent",
    // An hour per step: no sandbox callback fires during the run (as bench D).
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    VOICECODE_SHUTDOWN_GRACE_MS: "5000",
    ...NO_LIMITS_ENV,
    ...storage,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const server = await startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  try {
    await round(server, Math.min(5000, Math.ceil(sends / 4)));
    const measured = await round(server, sends);
    const extra = values.postgres
      ? `, ${measured.roundTrips.toFixed(2)} round trips per Send` +
        (measured.postgresCpuMicros === undefined ? "" : `, PostgreSQL ${measured.postgresCpuMicros.toFixed(1)} µs CPU per Send`)
      : "";
    console.log(
      `Send in process${values.postgres ? " (PostgreSQL)" : ""}: ${measured.perSecond.toFixed(0)} Sends/s, ` +
        `${measured.cpuMicros.toFixed(1)} µs CPU per Send${extra} (${sends} Sends, ${concurrency} in flight)`,
    );
  } finally {
    await server.stop();
  }
}

if (values.postgres) {
  await withBenchDatabase((url) =>
    measure({ DATABASE_URL: url, VOICECODE_SERVER_SECRET: "bench-server-secret-0123456789abcdefghij" }),
  );
} else {
  const dir = mkdtempSync(join(tmpdir(), "voicecode-send-core-"));
  try {
    await measure({ VOICECODE_DB_PATH: join(dir, "voicecode.db") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
