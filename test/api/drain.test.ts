/**
 * drain(): the listener closes at once (new calls are refused), in-flight calls finish,
 * and the promise resolves only when they have. The core's own drain (ending watches
 * with UNAVAILABLE) is the fake's drainCore().
 */
import { describe, expect, it, vi } from "vitest";
import { type ClientReadableStream, type ServiceError, status } from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";
import { createGrpcJsClient, createGrpcJsHealthClient } from "../support/grpc-js-client.js";
import { PHONE, WATCH } from "./fakes.js";
import { startApi, startGrpc, track } from "./harness.js";

function finalStatus(stream: ClientReadableStream<unknown>): Promise<status> {
  return new Promise((resolve) => {
    stream.on("error", () => undefined);
    stream.on("status", (s: { code: status }) => resolve(s.code));
  });
}

function firstMessage(stream: ClientReadableStream<unknown>): Promise<void> {
  return new Promise((resolve) => stream.once("data", () => resolve()));
}

/** Whether the promise has settled, checked without waiting. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol("pending");
  return (await Promise.race([promise.then(() => true), Promise.resolve(pending)])) !== pending;
}

describe.each([
  { path: "pumped", push: false },
  { path: "pushed", push: true },
])("gRPC server drain (WatchStatus $path)", ({ push }) => {
  it("finishes in-flight calls, refuses new ones, ends health watches", async () => {
    const { address, fakes, server } = await startGrpc({ push });
    const client = createGrpcJsClient(address);
    const healthClient = createGrpcJsHealthClient(address);
    track(() => client.close());
    track(() => healthClient.close());

    const inFlight = client.send({ phoneNumber: PHONE.slow, code: "1234" });
    const sendSignal = await fakes.slowSendStarted.promise;
    const watch = client.watchStatus({ target: { case: "callId", value: WATCH.drains } });
    const watchEnded = finalStatus(watch);
    await firstMessage(watch);
    const healthWatch = healthClient.watch({ service: "" });
    const healthEnded = finalStatus(healthWatch);
    await firstMessage(healthWatch);

    const drained = server.drain();
    expect(await healthEnded).toBe(status.UNAVAILABLE);

    const late = createGrpcJsClient(address);
    track(() => late.close());
    const refused = await late.send({ phoneNumber: PHONE.ok, code: "1" }).catch((err: ServiceError) => err);
    expect((refused as ServiceError).code).toBe(status.UNAVAILABLE);

    expect(await isSettled(drained)).toBe(false);
    fakes.drainCore();
    expect(await watchEnded).toBe(status.UNAVAILABLE);
    expect(await isSettled(drained)).toBe(false);

    fakes.finishSlowSends();
    expect((await inFlight).callId).toBe("01JCALL");
    expect(sendSignal.aborted).toBe(false);
    await drained;
    expect(fakes.counters.watchesReleased).toBe(1);
  });
});

describe("API server drain", () => {
  it("finishes in-flight HTTP/1.1 and HTTP/2 calls, closes idle connections, refuses new ones", async () => {
    const { baseUrl, fakes, server } = await startApi();
    const h1 = createClient(VoiceCode, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const h2 = createClient(VoiceCode, createConnectTransport({ baseUrl, httpVersion: "2" }));
    // Leaves an idle keep-alive connection behind, which must not hold up the drain.
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);

    const slow1 = h1.send({ phoneNumber: PHONE.slow, code: "1" });
    const slow2 = h2.send({ phoneNumber: PHONE.slow, code: "2" });
    await vi.waitFor(() => expect(fakes.counters.slowSends).toBe(2));
    const watch = h2.watchStatus({ target: { case: "callId", value: WATCH.drains } })[Symbol.asyncIterator]();
    await watch.next();

    const drained = server.drain();
    await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();

    expect(await isSettled(drained)).toBe(false);
    fakes.drainCore();
    const watchError = await watch.next().then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    expect(watchError?.code).toBe(Code.Unavailable);

    fakes.finishSlowSends();
    expect((await slow1).providerCallId).toBe("p-1");
    expect((await slow2).providerCallId).toBe("p-2");
    await drained;
    expect(fakes.counters.watchesReleased).toBe(1);
  });
});
