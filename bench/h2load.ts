/** Runs h2load (nghttp2-client) once and reads its summary and per-request log. */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export const H2LOAD = process.env.H2LOAD ?? "h2load";

/** The h2load version line, or undefined when it isn't installed. */
export function h2loadVersion(): string | undefined {
  const result = spawnSync(H2LOAD, ["--version"], { encoding: "utf8" });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return result.stdout.trim().split("\n")[0];
}

export interface H2loadRun {
  readonly url: string;
  readonly bodyFile: string;
  readonly headers: readonly string[];
  readonly clients: number;
  readonly streams: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** Per-request log (start µs, HTTP status, duration µs). */
  readonly logFile: string;
}

export interface H2loadResult {
  readonly reqPerSec: number;
  readonly done: number;
  readonly succeeded: number;
  /** failed + errored + timeout. */
  readonly failed: number;
  readonly status2xx: number;
  /** Of the requests logged with status 200 (see latencies()), in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly output: string;
}

export async function runH2load(run: H2loadRun): Promise<H2loadResult> {
  const args = [
    "-t1",
    `-c${run.clients}`,
    `-m${run.streams}`,
    `--warm-up-time=${run.warmupSeconds}`,
    `-D${run.durationSeconds}`,
    `--data=${run.bodyFile}`,
    `--log-file=${run.logFile}`,
    ...run.headers.flatMap((header) => ["-H", header]),
    run.url,
  ];
  const output = await capture(H2LOAD, args);
  const finished = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(output);
  const requests = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
    output,
  );
  const codes = /status codes: (\d+) 2xx/.exec(output);
  if (finished === null || requests === null || codes === null) {
    throw new Error(`could not read h2load's summary:\n${output}`);
  }
  const latency = latencies(run.logFile);
  return {
    reqPerSec: Number(finished[1]),
    done: Number(requests[1]),
    succeeded: Number(requests[2]),
    failed: Number(requests[3]) + Number(requests[4]) + Number(requests[5]),
    status2xx: Number(codes[1]),
    ...latency,
    output,
  };
}

/**
 * Percentiles of the measured phase. h2load logs the requests that ended in it; the few
 * that started during warm-up are logged with status 0 (their headers were counted before
 * the statistics reset), so only status-200 rows count.
 */
function latencies(logFile: string): { p50Ms: number; p99Ms: number; meanMs: number } {
  const micros: number[] = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const [, status, duration] = line.split("\t");
    if (status === "200" && duration !== undefined) micros.push(Number(duration));
  }
  if (micros.length === 0) throw new Error(`h2load logged no successful request in ${logFile}`);
  micros.sort((a, b) => a - b);
  const at = (q: number) => (micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] ?? Number.NaN) / 1000;
  const mean = micros.reduce((sum, us) => sum + us, 0) / micros.length / 1000;
  return { p50Ms: at(0.5), p99Ms: at(0.99), meanMs: mean };
}

function capture(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`h2load exited with ${code}:\n${output}`));
    });
  });
}
