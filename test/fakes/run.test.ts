/**
 * `npm run fake` prints an environment that voicecode accepts as it is: started on a
 * free port, each provider's printed exports parse into a ready provider that is also
 * the default, and the runner exits cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "vitest";
import { parseConfig } from "../../src/config.js";

const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

/** Runs the runner until it prints its start command; returns the printed exports. */
async function printedEnv(child: ChildProcess): Promise<Record<string, string>> {
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes("\nnpm start\n")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`runner exited ${code} before printing its env:\n${out}`)));
  });
  const env: Record<string, string> = {};
  for (const [, key, value] of out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) {
    env[key as string] = (value as string).replace(/^'(.*)'$/, "$1");
  }
  return env;
}

describe("npm run fake", () => {
  it.concurrent.for(["tencent", "ytx", "kingsoft", "huawei"])("prints an env that starts voicecode on %s", async (name, { expect }) => {
    const child = spawn(tsx, [join(root, "test", "fakes", "run.ts"), name, "--port", "0"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const env = await printedEnv(child);
      expect(env[`VOICECODE_${name.toUpperCase()}_WEBHOOK_TOKEN`]).toBe(`dev-${name}-webhook-token-000`);
      const parsed = parseConfig(env);
      expect(parsed.ok ? undefined : parsed.errors).toBeUndefined();
      if (!parsed.ok) return;
      expect(parsed.config.defaultProvider).toBe(name);
      expect(parsed.config.providers.map((p) => [p.name, p.setup.status])).toEqual([[name, "ready"]]);
      if (name === "huawei") expect(parsed.config.webhookPublicUrl).toBe("http://127.0.0.1:8081");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
