/**
 * No API-port connection is held by a slow or silent client: every request's headers and
 * body have a deadline, on HTTP/1.1 keep-alive connections and h2c sessions alike, and an
 * idle connection is closed. A server-streaming response is not a slow request: it stays
 * open as long as the server has something to send.
 *
 * Small real timeouts (the HTTP/1 deadlines are kept by Node's parser on its own clock);
 * the tests wait for the outcome, never for a duration.
 */
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";
import { WATCH } from "./fakes.js";
import { startApi, track } from "./harness.js";
import { type RawHttp1, rawHttp1 } from "./raw-http1.js";

const timeouts = { headersMs: 100, requestMs: 200, idleMs: 200 } as const;

/** Sends `text` a byte at a time, over and over, until the server closes the connection. */
async function trickleUntilClosed(conn: RawHttp1, text: string): Promise<void> {
  let closed = false;
  void conn.closed.then(() => {
    closed = true;
  });
  for (let i = 0; !closed; i++) {
    await conn.write(text.charAt(i % text.length));
    await sleep(10);
  }
}

async function openHttp1(port: number): Promise<RawHttp1> {
  const conn = await rawHttp1(port);
  track(() => conn.socket.destroy());
  return conn;
}

const GET_HEALTHZ = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
const POST_GET_CALL =
  "POST /voicecode.v1.VoiceCode/GetCall HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";

describe("API port timeouts on HTTP/1.1", () => {
  it("a body trickled past the request deadline gets 408 and the connection closes", async () => {
    const { port } = await startApi({ timeouts });
    const conn = await openHttp1(port);
    await conn.write(POST_GET_CALL);
    await trickleUntilClosed(conn, " ");
    expect((await conn.response())?.status).toBe(408);
  });

  it("a first request's headers trickled past the header deadline get 408", async () => {
    const { port } = await startApi({ timeouts });
    const conn = await openHttp1(port);
    await conn.write("GET /healthz HTTP/1.1\r\n");
    await trickleUntilClosed(conn, "x-padding: aaaaaaaa\r\n");
    expect((await conn.response())?.status).toBe(408);
  });

  it("a second keep-alive request's headers trickled past the header deadline get 408", async () => {
    const { port } = await startApi({ timeouts });
    const conn = await openHttp1(port);
    await conn.write(GET_HEALTHZ);
    expect((await conn.response())?.status).toBe(200);
    await conn.write("GET /healthz HTTP/1.1\r\n");
    await trickleUntilClosed(conn, "x-padding: aaaaaaaa\r\n");
    expect((await conn.response())?.status).toBe(408);
  });

  it("a second keep-alive request's body trickled past the request deadline gets 408", async () => {
    const { port } = await startApi({ timeouts });
    const conn = await openHttp1(port);
    await conn.write(GET_HEALTHZ);
    expect((await conn.response())?.status).toBe(200);
    await conn.write(POST_GET_CALL);
    await trickleUntilClosed(conn, " ");
    expect((await conn.response())?.status).toBe(408);
  });

  it("an idle keep-alive connection is closed", async () => {
    const { port } = await startApi({ timeouts: { ...timeouts, idleMs: 50 } });
    const conn = await openHttp1(port);
    await conn.write(GET_HEALTHZ);
    expect((await conn.response())?.status).toBe(200);
    await conn.closed;
    expect(conn.socket.destroyed).toBe(true);
  });
});

describe("API port timeouts on h2c", () => {
  it("a session with no open stream is closed, however often it pings", async () => {
    const { baseUrl } = await startApi({ timeouts });
    const session = http2.connect(baseUrl);
    track(() => session.destroy());
    session.on("error", () => undefined);
    let closed = false;
    const onClose = new Promise<void>((resolve) => session.once("close", resolve));
    void onClose.then(() => {
      closed = true;
    });
    await new Promise((resolve) => session.once("connect", resolve));
    while (!closed) {
      if (!session.destroyed) session.ping(() => undefined);
      await sleep(20);
    }
    expect(session.destroyed).toBe(true);
  });

  it("a stream whose body trickles past the request deadline is ended", async () => {
    const { baseUrl } = await startApi({ timeouts });
    const session = http2.connect(baseUrl);
    track(() => session.destroy());
    session.on("error", () => undefined);
    const stream = session.request({
      ":method": "POST",
      ":path": "/voicecode.v1.VoiceCode/GetCall",
      "content-type": "application/json",
      "content-length": "100000",
    });
    stream.on("error", () => undefined);
    let status: number | undefined;
    stream.on("response", (headers) => {
      status = headers[":status"];
    });
    stream.resume();
    let closed = false;
    stream.once("close", () => {
      closed = true;
    });
    while (!closed) {
      if (stream.writable) stream.write(" ");
      await sleep(10);
    }
    expect(status).toBe(408);
  });
});

describe("API port timeouts leave server-streaming responses alone", () => {
  it.each(["1.1", "2"] as const)("a quiet WatchStatus over HTTP/%s outlives every deadline", async (httpVersion) => {
    const { baseUrl, fakes } = await startApi({ timeouts });
    const client = createClient(VoiceCode, createConnectTransport({ baseUrl, httpVersion }));
    const watch = client.watchStatus({ target: { case: "callId", value: WATCH.drains } })[Symbol.asyncIterator]();
    expect((await watch.next()).done).toBe(false);
    // Many times every deadline with nothing on the wire in either direction.
    await sleep(10 * timeouts.requestMs);
    fakes.drainCore();
    // The stream was still open: the server's own ending reaches the client.
    const ending = await watch.next().then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    expect(ending?.code).toBe(Code.Unavailable);
  });
});
