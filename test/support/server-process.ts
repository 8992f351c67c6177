/**
 * A real voicecode process (src/main.ts with tsx's loader, so no build is needed) for tests
 * that need several replicas: its ports come from its "voicecode listening" log line,
 * and its stdout is drained for as long as it runs so logging never blocks it. A process
 * that does not come up, or does not stop, is killed rather than left running after the
 * test (it would hold connections to a database the test is about to drop).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { NO_LIMITS_ENV } from "../../src/config.js";

const root = join(import.meta.dirname, "..", "..");
// The loader in this very process, not the tsx command: that one runs the server as its
// own child, which a SIGKILL of the command would leave running.
const tsxLoader = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** Generous: tsx compiles the sources on start, on a loaded 2-core CI machine. */
const START_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 20_000;

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly grpcUrl: string;
  readonly apiUrl: string;
  readonly webhookUrl: string;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** SIGTERM, then the exit code; SIGKILL (code null) if it has not exited in time. */
  stop(): Promise<number | null>;
}

export async function startServerProcess(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", tsxLoader, join(root, "src", "main.ts")], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      VOICECODE_HOST: "127.0.0.1",
      VOICECODE_GRPC_PORT: "0",
      VOICECODE_API_PORT: "0",
      VOICECODE_WEBHOOK_PORT: "0",
      // Limits off, as in testConfig: these tests send to the same numbers repeatedly.
      ...NO_LIMITS_ENV,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const logs: Record<string, unknown>[] = [];
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    if (child.stdout === null) throw new Error("no stdout");
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // Not a log line (a runtime warning, say): keep it with stderr for the report.
        stderr += `${line}\n`;
        return;
      }
      logs.push(entry);
      if (entry.msg === "voicecode listening") resolve(entry);
    });
    lines.on("close", () => reject(new Error(`voicecode exited before listening:\n${stderr}`)));
  });

  async function stop(): Promise<number | null> {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    try {
      const [code] = await exited;
      return code;
    } finally {
      clearTimeout(timer);
    }
  }

  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`voicecode not listening after ${START_TIMEOUT_MS} ms:\n${stderr}`)),
      START_TIMEOUT_MS,
    );
  });
  let ready: Record<string, unknown>;
  try {
    ready = await Promise.race([listening, late]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const url = (port: unknown) => `http://127.0.0.1:${port as number}`;
  return {
    child,
    grpcUrl: url(ready.grpcPort),
    apiUrl: url(ready.apiPort),
    webhookUrl: url(ready.webhookPort),
    logs,
    stop,
  };
}

/** One counter of the process's Prometheus /metrics, 0 when absent. */
export async function metricValue(apiUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf("}"));
    const have = labelText.split(",");
    if (wanted.every((w) => have.includes(w))) return Number(line.slice(line.indexOf("}") + 1).trim());
  }
  return 0;
}
