/**
 * A real voicecode process (src/main.ts through tsx, so no build is needed) for tests
 * that need several replicas: its ports come from its "voicecode listening" log line,
 * and its stdout is drained for as long as it runs so logging never blocks it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";

const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly grpcUrl: string;
  readonly apiUrl: string;
  readonly webhookUrl: string;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function startServerProcess(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  const child = spawn(tsx, [join(root, "src", "main.ts")], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      VOICECODE_HOST: "127.0.0.1",
      VOICECODE_GRPC_PORT: "0",
      VOICECODE_API_PORT: "0",
      VOICECODE_WEBHOOK_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit");
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const logs: Record<string, unknown>[] = [];
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    if (child.stdout === null) throw new Error("no stdout");
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === "voicecode listening") resolve(entry);
    });
    lines.on("close", () => reject(new Error(`voicecode exited before listening:\n${stderr}`)));
  });
  const ready = await listening;
  const url = (port: unknown) => `http://127.0.0.1:${port as number}`;
  return {
    child,
    grpcUrl: url(ready.grpcPort),
    apiUrl: url(ready.apiPort),
    webhookUrl: url(ready.webhookPort),
    logs,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
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
