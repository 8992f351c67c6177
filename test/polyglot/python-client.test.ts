import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandboxNetwork, type SandboxNetwork } from "../../src/providers/sandbox/index.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { testConfig } from "../support/test-server.js";

// Debian's python3-grpcio / python3-grpc-tools (.ci/run installs them). Without them the
// test reports itself skipped, unless VOICECODE_REQUIRE_PYTHON=1 (CI) makes it fail.
const PYTHON = "/usr/bin/python3";
const hasGrpc = spawnSync(PYTHON, ["-c", "import grpc, grpc_tools"]).status === 0;
const required = process.env.VOICECODE_REQUIRE_PYTHON === "1";
const root = join(import.meta.dirname, "..", "..");

describe.runIf(hasGrpc || required)("a Python grpcio client with stubs generated from proto/", () => {
  let server: RunningServer;
  let network: SandboxNetwork;
  let target: string | undefined;
  const out = mkdtempSync(join(tmpdir(), "voicecode-py-"));

  beforeAll(async () => {
    // Real time, tiny steps: the Python process drives the call and waits on its stream.
    network = createSandboxNetwork({ callbackUrl: () => target, stepDelayMs: 1 });
    server = await startServer({ config: testConfig(), logger: pino({ level: "silent" }), sandboxNetwork: network });
    target = server.sandboxCallbackUrl;
  });
  afterAll(async () => {
    await server.stop();
    network.close();
    rmSync(out, { recursive: true, force: true });
  });

  it("sends, watches the lifecycle to the end and gets INVALID_ARGUMENT for a bad number", async () => {
    // Async: the server under test runs in this process and must keep serving.
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [join(import.meta.dirname, "python_client.py"), join(root, "proto"), out, `127.0.0.1:${server.grpcPort}`, "+8613711112222"],
      { encoding: "utf8", timeout: 30_000 },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(result).toMatchObject({ state: "CALL_STATE_ACCEPTED", provider: "sandbox" });
    expect(result.states).toEqual([
      "CALL_STATE_ACCEPTED",
      "CALL_STATE_DIALING",
      "CALL_STATE_RINGING",
      "CALL_STATE_ANSWERED",
      "CALL_STATE_COMPLETED",
    ]);
    expect(result.bad.code).toBe("INVALID_ARGUMENT");
    expect(result.bad.details).toMatch(/^phone_number: /);
  });
});
