import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENTS, failureOf, type TestClient } from "../support/clients.js";
import { SANDBOX_TOKEN, useTestServer } from "../support/test-server.js";

const fixture = useTestServer();

const good = { phoneNumber: "+8613711112222", code: "1234" };

/** Reads a watch to its end (these fail before any event). */
async function drain(watch: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of watch) {
    // no event expected
  }
}

describe.each(CLIENTS)("$name: bad input", ({ make }) => {
  let client: TestClient;
  beforeAll(() => {
    client = make(fixture.server);
  });
  afterAll(() => client.close());

  it.each([
    ["an invalid number", { ...good, phoneNumber: "+86123" }, "phone_number"],
    ["a non-digit code", { ...good, code: "12a4" }, "code"],
    ["play times out of range", { ...good, playTimes: 9 }, "play_times"],
    ["an unknown provider", { ...good, provider: "acme" }, "provider"],
  ])("Send with %s is INVALID_ARGUMENT naming the field", async (_name, init, field) => {
    const failure = await failureOf(client.send(init));
    expect(failure.code).toBe("invalid_argument");
    expect(failure.message.startsWith(`${field}: `)).toBe(true);
  });

  it("Send without a code says the code is required", async () => {
    expect(await failureOf(client.send({ phoneNumber: good.phoneNumber }))).toEqual({
      code: "invalid_argument",
      message: "code: is required",
    });
  });

  it("a watch by client_reference is bounded like Send's client_reference", async () => {
    const long = "r".repeat(129);
    const sendFailure = await failureOf(client.send({ ...good, clientReference: long }));
    const watchFailure = await failureOf(drain(client.watch({ target: { case: "clientReference", value: long } })));
    expect(watchFailure).toEqual({ code: "invalid_argument", message: "client_reference: at most 128 characters" });
    expect(watchFailure).toEqual(sendFailure);
    const nul = await failureOf(drain(client.watch({ target: { case: "clientReference", value: "a\u0000b" } })));
    expect(nul.message).toBe("client_reference: must not contain NUL characters");
  });

  it("a malformed or over-long call id is INVALID_ARGUMENT for GetCall and WatchStatus", async () => {
    for (const [callId, message] of [
      ["x".repeat(65), "call_id: at most 64 characters"],
      ["01J CALL", "call_id: must be letters, digits, '-' or '_'"],
    ] as const) {
      expect(await failureOf(client.getCall(callId))).toEqual({ code: "invalid_argument", message });
      const watch = await failureOf(drain(client.watch({ target: { case: "callId", value: callId } })));
      expect(watch).toEqual({ code: "invalid_argument", message });
    }
  });

  it("an unknown call id is NOT_FOUND for GetCall and WatchStatus", async () => {
    const get = await failureOf(client.getCall("01JDOESNOTEXIST0000000000"));
    expect(get).toEqual({ code: "not_found", message: "call_id: no such call" });
    const watch = await failureOf(
      (async () => {
        for await (const _ of client.watch({ target: { case: "callId", value: "01JDOESNOTEXIST0000000000" } })) {
          // no event expected
        }
      })(),
    );
    expect(watch.code).toBe("not_found");
  });

  it("a watch without a target is INVALID_ARGUMENT", async () => {
    const failure = await failureOf(
      (async () => {
        for await (const _ of client.watch({})) {
          // no event expected
        }
      })(),
    );
    expect(failure).toMatchObject({ code: "invalid_argument" });
    expect(failure.message).toMatch(/^target: /);
  });

  it("reusing an idempotency key with other parameters is ALREADY_EXISTS", async () => {
    const key = `k-${Math.random().toString(36).slice(2)}`;
    await client.send({ ...good, idempotencyKey: key });
    const failure = await failureOf(client.send({ ...good, code: "9999", idempotencyKey: key }));
    expect(failure.code).toBe("already_exists");
    expect(failure.message).toMatch(/^idempotency_key: /);
    await fixture.carrier.scheduler.runAll();
  });
});

describe("webhook port", () => {
  it("refuses forged and malformed callbacks with a 4xx JSON reason and stores nothing", async () => {
    const client = CLIENTS[0]!.make(fixture.server);
    const sent = await client.send(good);
    const body = JSON.stringify({
      callId: sent.providerCallId,
      userData: sent.callId,
      event: "completed",
      code: "200",
      text: "OK",
      timestamp: new Date().toISOString(),
    });
    const post = (path: string, b: string) =>
      fetch(fixture.server.webhookUrl + path, { method: "POST", body: b, headers: { "content-type": "application/json" } });

    const forged = await post("/webhooks/sandbox/not-the-token-at-all", body);
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ error: "unauthorized" });

    const malformed = await post(`/webhooks/sandbox/${SANDBOX_TOKEN}`, "{\"event\":");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/malformed/);

    const history = await client.getCall(sent.callId);
    expect(history.events.map((e) => e.state)).toHaveLength(1); // ACCEPTED only

    // The internal API is not reachable through the Internet-facing port.
    const rpc = await fetch(`${fixture.server.webhookUrl}/voicecode.v1.VoiceCode/GetCall`, {
      method: "POST",
      body: JSON.stringify({ callId: sent.callId }),
      headers: { "content-type": "application/json" },
    });
    expect(rpc.status).toBe(404);
    await fixture.carrier.scheduler.runAll();
    client.close();
  });
});
