import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it, vi } from "vitest";
import { WatchStatusRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { grpcJsClient } from "../support/clients.js";
import { useTestServer } from "../support/test-server.js";

// grpc-node issue #2385: streaming handlers reported hanging when the client cancels or
// vanishes. Each case opens a live watch on the gRPC port and checks that the server
// drops the stream's bus subscription once the client is gone.
const fixture = useTestServer();

function grpcFrame(ref: string): Buffer {
  const body = toBinary(
    WatchStatusRequestSchema,
    create(WatchStatusRequestSchema, { target: { case: "clientReference", value: ref } }),
  );
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, Buffer.from(body)]);
}

function rawWatch(ref: string): {
  session: http2.ClientHttp2Session;
  stream: http2.ClientHttp2Stream;
  socket: net.Socket;
} {
  // Our own socket, so a test can drop the TCP connection without any HTTP/2 goodbye.
  const socket = net.connect(fixture.server.grpcPort, "127.0.0.1");
  const session = http2.connect(fixture.server.grpcUrl, { createConnection: () => socket });
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/voicecode.v1.VoiceCode/WatchStatus",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => {});
  stream.end(grpcFrame(ref));
  return { session, stream, socket };
}

/**
 * Watch subscriptions only: the server's own standing subscription (the outcome-fallback
 * dispatcher listens for every notice) is there before and after any watch.
 */
const STANDING_SUBSCRIPTIONS = 1;
const subscribers = () => fixture.server.bus.subscriberCount - STANDING_SUBSCRIPTIONS;

describe("WatchStatus on the gRPC port releases everything when the client goes", () => {
  it("client cancel (grpc-js call.cancel)", async () => {
    const client = grpcJsClient(fixture.server.grpcUrl);
    const abort = new AbortController();
    const watching = (async () => {
      for await (const _ of client.watch({ target: { case: "clientReference", value: "c1" } }, abort.signal)) {
        // none
      }
    })().catch(() => {});
    await vi.waitFor(() => expect(subscribers()).toBe(1));
    abort.abort();
    await watching;
    await vi.waitFor(() => expect(subscribers()).toBe(0));
    client.close();
  });

  it("RST_STREAM from a raw HTTP/2 client", async () => {
    const { session, stream } = rawWatch("c2");
    await vi.waitFor(() => expect(subscribers()).toBe(1));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await vi.waitFor(() => expect(subscribers()).toBe(0));
    session.close();
  });

  it("the connection dropped without a goodbye", async () => {
    const { socket } = rawWatch("c3");
    await vi.waitFor(() => expect(subscribers()).toBe(1));
    socket.destroy();
    await vi.waitFor(() => expect(subscribers()).toBe(0));
  });

  it("many watchers cancelled at once leave nothing behind", async () => {
    const watches = Array.from({ length: 20 }, (_, i) => rawWatch(`many-${i}`));
    await vi.waitFor(() => expect(subscribers()).toBe(20));
    for (const w of watches) w.stream.close(http2.constants.NGHTTP2_CANCEL);
    await vi.waitFor(() => expect(subscribers()).toBe(0));
    for (const w of watches) w.session.close();
  });
});
