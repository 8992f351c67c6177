/**
 * Send without the transport: the real server's service (SQLite file, sandbox provider,
 * no limits, logging silent, as bench D) called in process, `--concurrency` Sends in
 * flight. Prints Sends/s and the process's CPU time per Send. The CPU figure is the one
 * to compare between builds on a shared machine: it moves far less with other jobs'
 * load than any rate does. See bench/README.md ("Send: CPU per Send").
 *
 *   npx tsx bench/send-core.ts [--sends 20000] [--concurrency 128]
 *
 * A warm-up of a quarter of `--sends` (at most 5 000) runs first and is not counted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { CallState, SendRequestSchema } from "../gen/voicecode/v1/voicecode_pb.js";
import { NO_LIMITS_ENV, parseConfig } from "../src/config.js";
import { type RunningServer, startServer } from "../src/server.js";

const { values } = parseArgs({
  options: {
    sends: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "128" },
  },
});
const sends = Number(values.sends);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(sends) || sends < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  throw new Error("--sends and --concurrency take positive integers");
}

const request = create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: "bench" });
const caller = { tenant: "default" } as const;

async function round(server: RunningServer, count: number): Promise<{ perSecond: number; cpuMicros: number }> {
  const signal = new AbortController().signal;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      const response = await server.service.send(request, signal, caller);
      if (response.state !== CallState.ACCEPTED) throw new Error(`Send answered ${CallState[response.state]}`);
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: count / seconds, cpuMicros: (cpu.user + cpu.system) / count };
}

const dir = mkdtempSync(join(tmpdir(), "voicecode-send-core-"));
try {
  const parsed = parseConfig({
    VOICECODE_HOST: "127.0.0.1",
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    VOICECODE_DB_PATH: join(dir, "voicecode.db"),
    VOICECODE_LOG_LEVEL: "silent",
    // An hour per step: no sandbox callback fires during the run (as bench D).
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    VOICECODE_SHUTDOWN_GRACE_MS: "5000",
    ...NO_LIMITS_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const server = await startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  try {
    await round(server, Math.min(5000, Math.ceil(sends / 4)));
    const measured = await round(server, sends);
    console.log(
      `Send in process: ${measured.perSecond.toFixed(0)} Sends/s, ${measured.cpuMicros.toFixed(1)} µs CPU per Send ` +
        `(${sends} Sends, ${concurrency} in flight)`,
    );
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
