import { describe, expect, it, vi } from "vitest";
import { Code, ConnectError, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CallState, VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";
import { PHONE, SECRET, WATCH } from "./fakes.js";
import { startApi, startGrpc } from "./harness.js";

async function connectError(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

async function exerciseClient(transport: Transport): Promise<void> {
  const client = createClient(VoiceCode, transport);
  const sent = await client.send({ phoneNumber: PHONE.ok, code: "5678" });
  expect(sent).toMatchObject({ callId: "01JCALL", provider: "sandbox", providerCallId: "p-5678", state: CallState.ACCEPTED });

  const sequences: bigint[] = [];
  for await (const m of client.watchStatus({ target: { case: "callId", value: WATCH.finite } })) {
    sequences.push(m.event?.sequence ?? 0n);
  }
  expect(sequences).toEqual([1n, 2n, 3n]);

  const invalid = await connectError(client.send({ phoneNumber: PHONE.invalid, code: "1" }));
  expect(invalid.code).toBe(Code.InvalidArgument);
  expect(invalid.rawMessage).toBe("phone_number: not a possible number");
  expect((await connectError(client.getCall({ callId: "nope" }))).code).toBe(Code.NotFound);
  const boom = await connectError(client.send({ phoneNumber: PHONE.boom, code: "1" }));
  expect(boom.code).toBe(Code.Internal);
  expect(boom.rawMessage).toBe("internal error");
  expect(boom.message).not.toContain(SECRET);
}

describe("Connect clients", () => {
  it("connect-node's gRPC transport works against the grpc-js port", async () => {
    const { port } = await startGrpc();
    await exerciseClient(createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  });

  it.each(["1.1", "2"] as const)("the Connect protocol over HTTP/%s works on the API port", async (httpVersion) => {
    const { baseUrl } = await startApi();
    await exerciseClient(createConnectTransport({ baseUrl, httpVersion }));
  });

  it.each(["1.1", "2"] as const)("gRPC-Web over HTTP/%s works on the API port", async (httpVersion) => {
    const { baseUrl } = await startApi();
    await exerciseClient(createGrpcWebTransport({ baseUrl, httpVersion }));
  });

  it("the API port does not speak gRPC (that is the gRPC port's job)", async () => {
    const { baseUrl } = await startApi();
    const client = createClient(VoiceCode, createGrpcTransport({ baseUrl }));
    await expect(client.getCall({ callId: "01JCALL" })).rejects.toBeInstanceOf(ConnectError);
  });

  it.each(["1.1", "2"] as const)("a Connect stream over HTTP/%s aborted by the client releases the watch", async (httpVersion) => {
    const { baseUrl, fakes } = await startApi();
    const client = createClient(VoiceCode, createConnectTransport({ baseUrl, httpVersion }));
    const abort = new AbortController();
    const stream = client.watchStatus({ target: { case: "callId", value: WATCH.hang } }, { signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    abort.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: Code.Canceled });
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });
});

describe("API port over plain HTTP", () => {
  it("answers a JSON POST as curl would send it", async () => {
    const { baseUrl } = await startApi();
    const res = await fetch(`${baseUrl}/voicecode.v1.VoiceCode/GetCall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ callId: "01JCALL" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { call: { callId: string; state: string }; events: Array<{ sequence: string }> };
    expect(body.call).toMatchObject({ callId: "01JCALL", state: "CALL_STATE_COMPLETED" });
    expect(body.events.map((e) => e.sequence)).toEqual(["1", "2"]);

    const missing = await fetch(`${baseUrl}/voicecode.v1.VoiceCode/GetCall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ callId: "nope" }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found" });

    const invalid = await fetch(`${baseUrl}/voicecode.v1.VoiceCode/Send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: PHONE.invalid, code: "1234" }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ code: "invalid_argument", message: "phone_number: not a possible number" });
  });

  it("/healthz is always ok; /readyz follows health", async () => {
    const { baseUrl, health } = await startApi();
    const healthz = await fetch(`${baseUrl}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: "ok" });

    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
    health.setServing(false);
    const notReady = await fetch(`${baseUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: "not ready" });
    health.setServing(true);
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
  });

  it("/metrics renders the metrics source", async () => {
    const { baseUrl } = await startApi();
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4");
    expect(await res.text()).toBe("voicecode_up 1\n");
  });

  it("unknown paths are a JSON 404", async () => {
    const { baseUrl } = await startApi();
    for (const path of ["/", "/nope", "/voicecode.v1.VoiceCode/Nope"]) {
      const res = await fetch(`${baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: "not found" });
    }
  });
});
