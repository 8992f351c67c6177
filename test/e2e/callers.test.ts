/**
 * Callers with keys, on both ports: who gets in, and that a tenant never sees another
 * tenant's calls (by id or by reference) or shares its idempotency keys.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { hashApiKey, newApiKey } from "../../src/auth/keys.js";
import { CLIENTS, type TestClient, failureOf, grpcWebClient } from "../support/clients.js";
import { createGrpcJsHealthClient } from "../support/grpc-js-client.js";
import { useTestServer } from "../support/test-server.js";

const alphaOld = newApiKey();
const alphaNew = newApiKey();
const beta = newApiKey();
const gamma = newApiKey();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-keys-"));
const keysFile = path.join(dir, "keys");
fs.writeFileSync(keysFile, `# gamma's key\ngamma ${hashApiKey(gamma)}\n`);

const fixture = useTestServer({
  VOICECODE_API_KEYS: `alpha=${hashApiKey(alphaOld)},alpha=${hashApiKey(alphaNew)}\nbeta=${hashApiKey(beta)}`,
  VOICECODE_API_KEYS_FILE: keysFile,
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ALL_CLIENTS = [
  ...CLIENTS,
  { name: "grpc-web", make: (u: { apiUrl: string }, k?: string) => grpcWebClient(u.apiUrl, k) },
];

function clientFor(name: string, apiKey?: string): TestClient {
  const entry = ALL_CLIENTS.find((c) => c.name === name);
  if (entry === undefined) throw new Error(name);
  return entry.make(fixture.server, apiKey);
}

/** The first event of a watch, then the watch is cancelled. */
async function firstEvent(client: TestClient, target: Parameters<TestClient["watch"]>[0]["target"]) {
  const abort = new AbortController();
  try {
    for await (const r of client.watch({ target }, abort.signal)) return r.event;
    return undefined;
  } finally {
    abort.abort();
  }
}

describe.each(ALL_CLIENTS.map((c) => c.name))("API keys through %s", (name) => {
  it("refuses a missing, wrong or malformed key with UNAUTHENTICATED and the same message", async () => {
    const anonymous = clientFor(name);
    const wrong = clientFor(name, newApiKey());
    const malformed = clientFor(name, "not a key");
    const failures = [
      await failureOf(anonymous.send({ phoneNumber: "+8613711112222", code: "1234" })),
      await failureOf(wrong.send({ phoneNumber: "+8613711112222", code: "1234" })),
      await failureOf(malformed.getCall("01ANY")),
      await failureOf(wrong.getCall("01ANY")),
      await failureOf(firstEvent(wrong, { case: "callId", value: "01ANY" })),
    ];
    for (const f of failures) expect(f).toEqual({ code: "unauthenticated", message: "a valid API key is required" });
    for (const c of [anonymous, wrong, malformed]) c.close();
  });

  it("accepts every key of a tenant (rotation) and keys from the file", async () => {
    for (const key of [alphaOld, alphaNew, gamma]) {
      const client = clientFor(name, key);
      const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
      expect((await client.getCall(sent.callId)).call?.callId).toBe(sent.callId);
      client.close();
    }
  });

  it("answers another tenant's call id exactly like an unknown one, by GetCall and WatchStatus", async () => {
    const a = clientFor(name, alphaNew);
    const b = clientFor(name, beta);
    const sent = await a.send({ phoneNumber: "+8613711112222", code: "1234" });
    const unknown = await failureOf(b.getCall("01JDX7T7ZK0Q1R2S3T4V5W6X7Y"));
    expect(unknown.code).toBe("not_found");
    expect(await failureOf(b.getCall(sent.callId))).toEqual(unknown);
    expect(await failureOf(firstEvent(b, { case: "callId", value: sent.callId }))).toEqual(unknown);
    expect((await firstEvent(a, { case: "callId", value: sent.callId }))?.callId).toBe(sent.callId);
    a.close();
    b.close();
  });

  it("shows a reference watch only the caller's own calls", async () => {
    const a = clientFor(name, alphaOld);
    const b = clientFor(name, beta);
    const ref = `shared-${name}-${Date.now()}`;
    const fromA = await a.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: ref });
    const fromB = await b.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: ref });
    // B's first (and only) event is its own, though A's was stored first.
    expect((await firstEvent(b, { case: "clientReference", value: ref }))?.callId).toBe(fromB.callId);
    expect((await firstEvent(a, { case: "clientReference", value: ref }))?.callId).toBe(fromA.callId);
    a.close();
    b.close();
  });

  it("scopes idempotency keys per tenant: the same key in two tenants makes two calls", async () => {
    const a = clientFor(name, alphaNew);
    const b = clientFor(name, beta);
    const req = { phoneNumber: "+8613711112222", code: "1234", idempotencyKey: `idem-${name}-${Date.now()}` };
    const first = await a.send(req);
    const second = await b.send(req);
    expect(second.callId).not.toBe(first.callId);
    expect(second.idempotentReplay).toBe(false);
    const replay = await a.send(req);
    expect(replay).toMatchObject({ callId: first.callId, idempotentReplay: true });
    a.close();
    b.close();
  });
});

describe("without a key", () => {
  it("health, /healthz and /readyz still answer", async () => {
    const health = createGrpcJsHealthClient(new URL(fixture.server.grpcUrl).host);
    expect((await health.check({ service: "" })).status).toBe(1);
    health.close();
    expect((await fetch(`${fixture.server.apiUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${fixture.server.apiUrl}/readyz`)).status).toBe(200);
  });
});

describe("the keys file", () => {
  it("is re-read on change: removing a line revokes the key, no restart", async () => {
    const client = clientFor("grpc-js", gamma);
    await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    fs.writeFileSync(keysFile, "# gamma revoked\n");
    // The file is checked at most once a second: poll (bounded by the test timeout).
    for (;;) {
      const outcome = await client.send({ phoneNumber: "+8613711112222", code: "1234" }).then(
        () => "accepted",
        () => "refused",
      );
      if (outcome === "refused") break;
      await sleep(100);
    }
    expect(await failureOf(client.getCall("01ANY"))).toMatchObject({ code: "unauthenticated" });
    // Keys from the variable are unaffected.
    const a = clientFor("grpc-js", alphaOld);
    await a.send({ phoneNumber: "+8613711112222", code: "1234" });
    a.close();
    client.close();
  });
});
