import { type Server, connect, createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WireProtocol, sniffProtocol } from "../../src/api/http/sniff-protocol.js";
import { PHONE, deferred } from "./fakes.js";
import { startApi } from "./harness.js";

describe("sniffProtocol", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** A server that sniffs its first connection and reports what it saw, bytes included. */
  async function sniffing(timeoutMs = 5_000) {
    const firstChunk = deferred();
    const result = deferred<{ protocol: WireProtocol | "destroyed"; bytes: string }>();
    server = createServer((socket) => {
      socket.once("data", () => firstChunk.resolve());
      socket.once("close", () => result.resolve({ protocol: "destroyed", bytes: "" }));
      sniffProtocol(socket, timeoutMs, (protocol) => {
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.once("end", () => result.resolve({ protocol, bytes: Buffer.concat(chunks).toString("latin1") }));
        socket.resume();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    return { socket, firstChunk: firstChunk.promise, result: result.promise };
  }

  it("recognises an h2 preface split across packets and keeps every byte", async () => {
    const { socket, firstChunk, result } = await sniffing();
    const written = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04";
    socket.write(written.slice(0, 9));
    await firstChunk;
    socket.end(written.slice(9));
    expect(await result).toEqual({ protocol: "h2", bytes: written });
  });

  it("takes anything else for HTTP/1", async () => {
    const { socket, result } = await sniffing();
    socket.end("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    expect(await result).toEqual({ protocol: "http1", bytes: "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n" });
  });

  it("drops a connection that says nothing", async () => {
    const { result } = await sniffing(50);
    expect((await result).protocol).toBe("destroyed");
  });
});

describe("API server HTTP details", () => {
  it("reads a large HTTP/1.1 body intact after the protocol hand-off", async () => {
    const { baseUrl } = await startApi();
    // Just under the 1 MiB request limit: large enough to span many reads.
    const metadata = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, "v".repeat(64 * 1024)]));
    const res = await fetch(`${baseUrl}/voicecode.v1.VoiceCode/Send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: PHONE.ok, code: "4321", metadata }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ providerCallId: "p-4321" });
  });

  it("probes only answer GET and HEAD", async () => {
    const { baseUrl } = await startApi();
    const res = await fetch(`${baseUrl}/readyz`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(`${baseUrl}/healthz`, { method: "HEAD" })).status).toBe(200);
  });
});
