/**
 * Release on cancel (grpc-node #2385): however a WatchStatus caller goes away, the
 * handler's signal aborts and its iterator's return() runs, so the core's `finally`
 * (its bus subscription) is released. The fake watches count their `finally`.
 */
import http2 from "node:http2";
import { describe, expect, it, vi } from "vitest";
import { type ClientReadableStream, status } from "@grpc/grpc-js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { WATCH } from "./fakes.js";
import { startGrpc, track } from "./harness.js";
import { rawWatch } from "./raw-http2.js";

function firstMessage(stream: ClientReadableStream<unknown>): Promise<void> {
  return new Promise((resolve) => stream.once("data", () => resolve()));
}

function finalStatus(stream: ClientReadableStream<unknown>): Promise<status> {
  return new Promise((resolve) => {
    stream.on("error", () => undefined);
    stream.on("status", (s: { code: status }) => resolve(s.code));
  });
}

describe.each([
  { path: "pumped", push: false },
  { path: "pushed", push: true },
])("WatchStatus releases the handler ($path)", ({ push }) => {
  it("(a) when the grpc-js client calls cancel()", async () => {
    const { address, fakes } = await startGrpc({ push });
    const client = createGrpcJsClient(address);
    track(() => client.close());
    const call = client.watchStatus({ target: { case: "callId", value: WATCH.hang } });
    const ended = finalStatus(call);
    await firstMessage(call);
    expect(fakes.counters.watchesReleased).toBe(0);

    call.cancel();
    expect(await ended).toBe(status.CANCELLED);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });

  it("(a') when the client cancels while the server is blocked on backpressure", async () => {
    const { address, fakes } = await startGrpc({ push });
    const client = createGrpcJsClient(address);
    track(() => client.close());
    // Never read: the flood fills the HTTP/2 window and the stream buffer, so write() says false.
    const call = client.watchStatus({ target: { case: "callId", value: WATCH.flood } });
    const ended = finalStatus(call);
    await vi.waitFor(() => expect(fakes.counters.yielded).toBeGreaterThan(20));

    call.cancel();
    expect(await ended).toBe(status.CANCELLED);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });

  it("(b) when the client's TCP connection is reset", async () => {
    const { port, fakes } = await startGrpc({ push });
    const watch = await rawWatch(port, WATCH.hang);
    await watch.firstData;
    expect(fakes.counters.watchesReleased).toBe(0);

    watch.socket.resetAndDestroy();
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });

  it("(b') when the client destroys its HTTP/2 session mid-backpressure", async () => {
    const { port, fakes } = await startGrpc({ push });
    const watch = await rawWatch(port, WATCH.flood);
    await vi.waitFor(() => expect(fakes.counters.yielded).toBeGreaterThan(20));

    watch.session.destroy();
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });

  it("(c) when a raw HTTP/2 client sends RST_STREAM(CANCEL)", async () => {
    const { port, fakes } = await startGrpc({ push });
    const watch = await rawWatch(port, WATCH.hang);
    track(() => watch.session.destroy());
    await watch.firstData;

    watch.stream.close(http2.constants.NGHTTP2_CANCEL);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
    // The connection itself stays usable.
    expect(watch.session.closed).toBe(false);
  });

  it("when the deadline passes", async () => {
    const { address, fakes } = await startGrpc({ push });
    const client = createGrpcJsClient(address);
    track(() => client.close());
    const call = client.watchStatus({ target: { case: "callId", value: WATCH.hang } }, { deadline: Date.now() + 300 });
    expect(await finalStatus(call)).toBe(status.DEADLINE_EXCEEDED);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });

  it("when the server is force-closed", async () => {
    const { address, fakes, server } = await startGrpc({ push });
    const client = createGrpcJsClient(address);
    track(() => client.close());
    const call = client.watchStatus({ target: { case: "callId", value: WATCH.hang } });
    const ended = finalStatus(call);
    await firstMessage(call);

    server.forceClose();
    expect(await ended).not.toBe(status.OK);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });
});
