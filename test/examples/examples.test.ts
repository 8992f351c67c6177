import { execFile, spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey, newApiKey } from "../../src/auth/keys.js";
import { type SandboxNetwork, createSandboxNetwork } from "../../src/providers/sandbox/index.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { grpcJsClient } from "../support/clients.js";
import { testConfig } from "../support/test-server.js";

// The callers in examples/ are what other teams copy: each one runs here, as its own
// process, against the real server with API keys required.
const root = join(import.meta.dirname, "..", "..");
const tsxLoader = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;
// As in test/polyglot: Debian's python3-grpcio / python3-grpc-tools; without them the
// Python example is reported skipped, unless VOICECODE_REQUIRE_PYTHON=1 makes it fail.
const PYTHON = "/usr/bin/python3";
const hasPythonGrpc = spawnSync(PYTHON, ["-c", "import grpc, grpc_tools"]).status === 0;
const requirePython = process.env.VOICECODE_REQUIRE_PYTHON === "1";

const EXAMPLES = [
  {
    name: "examples/typescript/connect-caller.ts",
    run: true,
    command: [process.execPath, "--import", tsxLoader, join(root, "examples", "typescript", "connect-caller.ts")],
    addr: (port: number) => `127.0.0.1:${port}`,
  },
  {
    name: "examples/typescript/grpc-js-caller.ts",
    run: true,
    command: [process.execPath, "--import", tsxLoader, join(root, "examples", "typescript", "grpc-js-caller.ts")],
    addr: (port: number) => `127.0.0.1:${port}`,
  },
  {
    name: "examples/python/caller.py",
    run: hasPythonGrpc || requirePython,
    command: [PYTHON, join(root, "examples", "python", "caller.py")],
    addr: (port: number) => `127.0.0.1:${port}`,
  },
];

const key = newApiKey();
let server: RunningServer;
let network: SandboxNetwork;
let target: string | undefined;

beforeAll(async () => {
  // Real time, tiny steps: each example drives a call and waits on its stream.
  network = createSandboxNetwork({ callbackUrl: () => target, stepDelayMs: 1 });
  const config = testConfig({ VOICECODE_API_KEYS: `examples=${hashApiKey(key)}` });
  server = await startServer({ config, logger: pino({ level: "silent" }), sandboxNetwork: network });
  target = server.sandboxCallbackUrl;
});
afterAll(async () => {
  await server.stop();
  network.close();
});

/** Async: the server runs in this process and must keep serving while the example runs. */
async function run(example: (typeof EXAMPLES)[number], apiKey: string) {
  const [file = "", ...args] = example.command;
  try {
    const { stdout } = await promisify(execFile)(file, [...args, "+8613711112222"], {
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? "", VOICECODE_ADDR: example.addr(server.grpcPort), VOICECODE_API_KEY: apiKey },
    });
    return { ok: true as const, output: JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") };
  } catch (err) {
    return { ok: false as const, stderr: String((err as { stderr?: string }).stderr ?? err) };
  }
}

describe.each(EXAMPLES)("$name", (example) => {
  it.runIf(example.run)("sends with its API key, watches the call to its end and reads it back", async () => {
    const result = await run(example, key);
    if (!result.ok) throw new Error(result.stderr);
    const states = ["ACCEPTED", "DIALING", "RINGING", "ANSWERED", "COMPLETED"];
    expect(result.output).toMatchObject({ sendState: "ACCEPTED", states, finalState: "COMPLETED", events: 5 });
    // A call the server really stored, under the key's tenant.
    const client = grpcJsClient(`http://127.0.0.1:${server.grpcPort}`, key);
    try {
      const stored = await client.getCall(result.output.callId);
      expect(stored.events.map((e) => e.sequence)).toHaveLength(5);
    } finally {
      client.close();
    }
  });

  it.runIf(example.run)("is refused without a valid key (so the key it sends is what let it in)", async () => {
    const result = await run(example, newApiKey());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.stderr.toLowerCase()).toMatch(/unauthenticated/);
  });
});
