/**
 * The API port refuses an oversized request body from its first bytes: it answers
 * without waiting for (or holding) the rest, in the protocol the caller speaks.
 */
import http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { API_MAX_REQUEST_BYTES } from "../../src/api/http-server.js";
import { startApi, track } from "./harness.js";
import { type RawHttp1, rawHttp1 } from "./raw-http1.js";

const MiB = 1024 * 1024;
const GET_CALL = "/voicecode.v1.VoiceCode/GetCall";
const WATCH = "/voicecode.v1.VoiceCode/WatchStatus";

/**
 * Keeps sending body bytes after the answer, as a client that ignores it would, until the
 * server refuses them or `limit` bytes went out; returns how many went out.
 */
async function pushUntilRefused(conn: RawHttp1, limit: number, frame: (b: Buffer) => Buffer = (b) => b): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 0x20);
  let sent = 0;
  while (sent < limit && (await conn.write(frame(chunk)))) sent += chunk.length;
  return sent;
}

const chunked = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]);

function head(path: string, headers: Record<string, string>): string {
  const lines = Object.entries({ host: "x", ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

describe("API port request size limit", () => {
  it("is the 1 MiB the other ports use", () => {
    expect(API_MAX_REQUEST_BYTES).toBe(1 * MiB);
  });

  it("answers a Connect call declaring 100 MiB with resource_exhausted before the body arrives (HTTP/1.1)", async () => {
    const { port } = await startApi();
    const conn = await rawHttp1(port);
    track(() => conn.socket.destroy());
    await conn.write(head(GET_CALL, { "content-type": "application/json", "content-length": String(100 * MiB) }));
    await conn.write(Buffer.alloc(64 * 1024, 0x20));
    const res = await conn.response();
    expect(res?.status).toBe(429);
    expect(JSON.parse(res?.body ?? "{}")).toMatchObject({ code: "resource_exhausted" });
    // The rest of the declared body is not read off the wire: the connection ends.
    expect(await pushUntilRefused(conn, 100 * MiB)).toBeLessThan(100 * MiB);
  });

  it("answers a chunked Connect body once it passes the limit, without waiting for its end (HTTP/1.1)", async () => {
    const { port } = await startApi();
    const conn = await rawHttp1(port);
    track(() => conn.socket.destroy());
    await conn.write(head(GET_CALL, { "content-type": "application/json", "transfer-encoding": "chunked" }));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // Two MiB, and never the terminating chunk: a server that waits for the end never answers.
    for (let i = 0; i < 32; i++) void conn.write(chunked(chunk));
    const res = await conn.response();
    expect(res?.status).toBe(429);
    expect(JSON.parse(res?.body ?? "{}")).toMatchObject({ code: "resource_exhausted" });
    expect(await pushUntilRefused(conn, 100 * MiB, chunked)).toBeLessThan(100 * MiB);
  });

  it("answers a gRPC-Web message declaring more than the limit with RESOURCE_EXHAUSTED", async () => {
    const { port } = await startApi();
    const conn = await rawHttp1(port);
    track(() => conn.socket.destroy());
    await conn.write(head(WATCH, { "content-type": "application/grpc-web+proto", "content-length": String(100 * MiB) }));
    const envelope = Buffer.alloc(5);
    envelope.writeUInt32BE(100 * MiB - 5, 1);
    await conn.write(envelope);
    const res = await conn.response();
    // The status travels in the body's trailer frame.
    expect(res?.body).toContain("grpc-status: 8");
    expect(await pushUntilRefused(conn, 100 * MiB)).toBeLessThan(100 * MiB);
  });

  it("answers a Connect call declaring 100 MiB before the body arrives (HTTP/2)", async () => {
    const { baseUrl } = await startApi();
    const session = http2.connect(baseUrl);
    track(() => session.destroy());
    session.on("error", () => undefined);
    const stream = session.request({
      ":method": "POST",
      ":path": GET_CALL,
      "content-type": "application/json",
      "content-length": String(100 * MiB),
    });
    stream.on("error", () => undefined);
    stream.write(Buffer.alloc(64 * 1024, 0x20));
    const status = await new Promise<number | undefined>((resolve) => {
      stream.once("response", (headers) => resolve(headers[":status"]));
      stream.once("close", () => resolve(undefined));
    });
    expect(status).toBe(429);
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => stream.once("close", resolve));
    expect(JSON.parse(Buffer.concat(chunks).toString())).toMatchObject({ code: "resource_exhausted" });
  });
});
