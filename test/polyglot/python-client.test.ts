import { execFile, spawn, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey, newApiKey } from "../../src/auth/keys.js";
import { createSandboxNetwork, type SandboxNetwork } from "../../src/providers/sandbox/index.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { testConfig } from "../support/test-server.js";
import { defaultCodeGenerator } from "../../src/verify/code.js";

// Debian's python3-grpcio / python3-grpc-tools (.ci/run installs them). Without them the
// test reports itself skipped, unless VOICECODE_REQUIRE_PYTHON=1 (CI) makes it fail.
const PYTHON = "/usr/bin/python3";
const hasGrpc = spawnSync(PYTHON, ["-c", "import grpc, grpc_tools"]).status === 0;
const required = process.env.VOICECODE_REQUIRE_PYTHON === "1";
const root = join(import.meta.dirname, "..", "..");

describe.runIf(hasGrpc || required)("a Python grpcio client with stubs generated from proto/ (health and reflection too)", () => {
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
    expect(result.health).toBe("SERVING");
    expect(result.services).toContain("voicecode.v1.VoiceCode");
    expect(result.bad.code).toBe("INVALID_ARGUMENT");
    expect(result.bad.details).toMatch(/^phone_number: /);
  });

  it("places an IVR call on the sandbox with Notify and reads the key press from the stream", async () => {
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [join(import.meta.dirname, "python_notify.py"), join(root, "proto"), out, `127.0.0.1:${server.grpcPort}`, "+8613711112228"],
      { encoding: "utf8", timeout: 30_000 },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(result).toEqual({
      state: "CALL_STATE_ACCEPTED",
      provider: "sandbox",
      events: [
        ["CALL_STATE_ACCEPTED", ""],
        ["CALL_STATE_DIALING", ""],
        ["CALL_STATE_RINGING", ""],
        ["CALL_STATE_ANSWERED", ""],
        // The sandbox's IVR callee presses the number's last digit.
        ["CALL_STATE_COMPLETED", "8"],
      ],
      kind: "CALL_KIND_IVR",
      template: "delivery",
    });
  });
});

describe.runIf(hasGrpc || required)("a Python grpcio client with API keys", () => {
  let server: RunningServer;
  let network: SandboxNetwork;
  let target: string | undefined;
  const out = mkdtempSync(join(tmpdir(), "voicecode-py-"));
  const dir = mkdtempSync(join(tmpdir(), "voicecode-py-keys-"));
  const keysFile = join(dir, "keys");
  const oldKey = newApiKey();
  const newKey = newApiKey();
  const fileKey = newApiKey();

  beforeAll(async () => {
    network = createSandboxNetwork({ callbackUrl: () => target, stepDelayMs: 1 });
    writeFileSync(keysFile, `team-b ${hashApiKey(fileKey)}\n`);
    const config = testConfig({
      VOICECODE_API_KEYS: `team-a=${hashApiKey(oldKey)},team-a=${hashApiKey(newKey)}`,
      VOICECODE_API_KEYS_FILE: keysFile,
      // The documented default per-number limits.
      VOICECODE_NUMBER_LIMITS: "1/1m,5/1h,10/1d",
    });
    server = await startServer({ config, logger: pino({ level: "silent" }), sandboxNetwork: network });
    target = server.sandboxCallbackUrl;
  });
  afterAll(async () => {
    await server.stop();
    network.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (phone: string, keys: string[]) => {
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [join(import.meta.dirname, "python_callers.py"), join(root, "proto"), out, `127.0.0.1:${server.grpcPort}`, phone, ...keys],
      { encoding: "utf8", timeout: 30_000 },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
  };

  it("gets UNAUTHENTICATED without a valid key, in with either rotated key, and decodes ErrorInfo and RetryInfo", async () => {
    const result = await run("+8613711113333", ["none=-", `wrong=${newApiKey()}`, `old=${oldKey}`, `new=${newKey}`]);
    const unauthenticated = { code: "UNAUTHENTICATED", details: "a valid API key is required" };
    expect(result.none).toEqual([unauthenticated, unauthenticated]);
    expect(result.wrong).toEqual([unauthenticated, unauthenticated]);
    // One call a minute to a number, whichever key of the tenant sends it.
    expect(result.old[0]).toEqual({ code: "OK", state: "CALL_STATE_ACCEPTED" });
    expect(result.old[1]).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      status_code: 8,
      reason: "NUMBER_MINUTE_LIMIT",
      domain: "voicecode.v1",
      metadata: { limit: "1", window: "1m" },
    });
    expect(result.old[1].retry_ms).toBeGreaterThan(0);
    expect(result.old[1].retry_ms).toBeLessThanOrEqual(60_000);
    expect(result.new[0]).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "NUMBER_MINUTE_LIMIT" });
  });

  it("is refused once its key's line is removed from the keys file (revoked)", async () => {
    expect((await run("+8613711114444", [`file=${fileKey}`])).file[0]).toMatchObject({ code: "OK" });
    writeFileSync(keysFile, "# team-b revoked\n");
    // The file is checked at most once a second; wait until the server has re-read it.
    while (server.authenticator.authenticate(`Bearer ${fileKey}`) !== undefined) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await run("+8613711115555", [`file=${fileKey}`])).file[0]).toEqual({
      code: "UNAUTHENTICATED",
      details: "a valid API key is required",
    });
  });
});

describe.runIf(hasGrpc || required)("README's verification in three calls, from Python grpcio", () => {
  let server: RunningServer;
  let network: SandboxNetwork;
  let target: string | undefined;
  const spoken: string[] = [];
  const out = mkdtempSync(join(tmpdir(), "voicecode-py-verify-"));

  beforeAll(async () => {
    network = createSandboxNetwork({ callbackUrl: () => target, stepDelayMs: 1 });
    server = await startServer({
      config: testConfig(),
      logger: pino({ level: "silent" }),
      sandboxNetwork: network,
      // The test plays the person on the phone: it hears the code the service generated.
      generateCode: (length) => {
        const code = defaultCodeGenerator(length);
        spoken.push(code);
        return code;
      },
    });
    target = server.sandboxCallbackUrl;
  });
  afterAll(async () => {
    await server.stop();
    network.close();
    rmSync(out, { recursive: true, force: true });
  });

  it("sends with generate_code, then checks a wrong code and the spoken one", async () => {
    const child = spawn(
      PYTHON,
      [join(import.meta.dirname, "python_verify.py"), join(root, "proto"), out, `127.0.0.1:${server.grpcPort}`, "+8613711116666"],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines: string[] = [];
    let buffered = "";
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        // The call id came back: the phone has spoken; the person types what they heard.
        if (lines.length === 1) child.stdin.end(`${spoken.at(-1) ?? ""}\n`);
      }
    });
    expect(await done).toBe(0);
    const sent = JSON.parse(lines[0] ?? "{}");
    expect(sent.state).toBe("CALL_STATE_ACCEPTED");
    expect(JSON.parse(lines[1] ?? "{}")).toEqual({
      wrong: { result: "CHECK_RESULT_WRONG_CODE", attempts_left: 4 },
      right: { result: "CHECK_RESULT_APPROVED", call_id: sent.call_id },
    });
  });
});
