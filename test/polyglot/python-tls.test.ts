import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa } from "../support/certs.js";
import { type Carrier, type TestServer, createCarrier, startTestServer } from "../support/test-server.js";

// As python-client.test.ts: skipped without python3-grpcio unless VOICECODE_REQUIRE_PYTHON=1.
const PYTHON = "/usr/bin/python3";
const hasGrpc = spawnSync(PYTHON, ["-c", "import grpc, grpc_tools"]).status === 0;
const required = process.env.VOICECODE_REQUIRE_PYTHON === "1";
const root = join(import.meta.dirname, "..", "..");

describe.runIf(hasGrpc || required)("a Python grpcio client over mTLS", () => {
  const ca = createTestCa();
  const serverPair = ca.server("py-server");
  const clientPair = ca.client("py-client");
  const out = mkdtempSync(join(tmpdir(), "voicecode-py-tls-"));
  let carrier: Carrier;
  let server: TestServer;
  beforeAll(async () => {
    carrier = createCarrier();
    server = await startTestServer(carrier, {
      VOICECODE_TLS_CERT_FILE: serverPair.certFile,
      VOICECODE_TLS_KEY_FILE: serverPair.keyFile,
      VOICECODE_TLS_CLIENT_CA_FILE: ca.caFile,
    });
  });
  afterAll(async () => {
    await server.stop();
    carrier.network.close();
    ca.remove();
    rmSync(out, { recursive: true, force: true });
  });

  async function run(...client: string[]): Promise<{ call_id?: string; error?: string }> {
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [join(import.meta.dirname, "python_tls.py"), join(root, "proto"), out, `127.0.0.1:${server.grpcPort}`, ca.caFile, ...client],
      { encoding: "utf8", timeout: 30_000 },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
  }

  it("sends with a client certificate from the CA", async () => {
    expect(await run(clientPair.certFile, clientPair.keyFile)).toEqual({ call_id: expect.stringMatching(/^[0-9A-Z]{26}$/) });
  });

  it("is refused without a client certificate", async () => {
    expect(await run()).toEqual({ error: "UNAVAILABLE" });
  });
});
