import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { providerRequest } from "../../src/providers/http.js";

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
}

const post = (url: string, signal = AbortSignal.timeout(2000), maxResponseBytes?: number) =>
  providerRequest({
    url,
    headers: { "content-type": "application/json" },
    body: '{"a":1}',
    signal,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });

describe("providerRequest", () => {
  it("returns the status, headers and body, and sends the body with its length", async () => {
    const url = await serve((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.writeHead(418, { "x-seen": `${req.method} ${req.url} ${req.headers["content-length"]} ${body}` });
        res.end("teapot");
      });
    });
    const result = await post(url);
    expect(result).toMatchObject({ kind: "response", status: 418, body: "teapot" });
    expect(result.kind === "response" && result.headers["x-seen"]).toBe('POST /api 7 {"a":1}');
  });

  it("calls a refused connection not-sent: nothing reached the provider", async () => {
    const url = await serve(() => undefined);
    const server = servers.pop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    expect(await post(url)).toEqual({ kind: "not-sent", detail: "ECONNREFUSED" });
  });

  it("calls an already-aborted request not-sent", async () => {
    const url = await serve((_req, res) => res.end("{}"));
    expect(await post(url, AbortSignal.abort())).toMatchObject({ kind: "not-sent" });
  });

  it("calls a reset after the request went out ambiguous", async () => {
    const url = await serve((req) => req.socket.destroy());
    expect(await post(url)).toMatchObject({ kind: "ambiguous" });
  });

  it("calls a timeout while waiting for the answer ambiguous", async () => {
    const url = await serve(() => undefined);
    expect(await post(url, AbortSignal.timeout(50))).toEqual({ kind: "ambiguous", detail: "timeout" });
  });

  it("calls an oversized answer ambiguous rather than buffering it", async () => {
    const url = await serve((_req, res) => res.end("x".repeat(5000)));
    expect(await post(url, AbortSignal.timeout(2000), 1000)).toMatchObject({ kind: "ambiguous" });
  });

  it("counts a reset on a reused keep-alive connection as ambiguous", async () => {
    let n = 0;
    const url = await serve((req, res) => {
      n += 1;
      if (n === 1) res.end("first");
      else req.socket.destroy();
    });
    expect(await post(url)).toMatchObject({ kind: "response", body: "first" });
    expect(await post(url)).toMatchObject({ kind: "ambiguous" });
  });
});
