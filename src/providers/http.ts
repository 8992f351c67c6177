/**
 * One HTTP exchange with a provider API, classified the way Send needs it. What
 * matters is not "did it fail" but "could the provider have acted on it": an error
 * before the connection was established means nothing reached the provider (no call
 * placed); any failure after that (reset, timeout, abort) is ambiguous.
 *
 * node:http rather than fetch because fetch hides exactly that distinction.
 */
import http from "node:http";
import https from "node:https";

export interface ProviderHttpRequest {
  readonly url: string;
  readonly method?: "POST" | "GET";
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /** Aborts the exchange (the core's provider timeout lives here). */
  readonly signal: AbortSignal;
  /** Cap on the response body; a bigger one is treated as unparseable. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

export type ProviderHttpResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: http.IncomingHttpHeaders;
      readonly body: string;
    }
  /** Nothing reached the provider: DNS failure, refused connection, aborted before connect. */
  | { readonly kind: "not-sent"; readonly detail: string }
  /** The request may have been acted on: reset, timeout or abort after connecting. */
  | { readonly kind: "ambiguous"; readonly detail: string };

/**
 * Idle keep-alive sockets are dropped after 4 s, before a provider's gateway is likely
 * to close them (5 s and up is usual). A request written to a socket the server is
 * closing at that moment fails with a reset we must call ambiguous, and for providers
 * whose callbacks do not echo our call id an ambiguous send can never be matched: a
 * fresh connection is far cheaper than that.
 */
const IDLE_SOCKET_MS = 4_000;
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS }),
};

export function providerRequest(request: ProviderHttpRequest): Promise<ProviderHttpResult> {
  const url = new URL(request.url);
  const secure = url.protocol === "https:";
  const limit = request.maxResponseBytes ?? 1024 * 1024;
  const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;

  return new Promise((resolve) => {
    if (request.signal.aborted) {
      resolve({ kind: "not-sent", detail: "aborted before sending" });
      return;
    }
    let connected = false;
    let settled = false;
    const settle = (result: ProviderHttpResult): void => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener("abort", onAbort);
      resolve(result);
    };
    const failed = (detail: string): void => {
      settle(connected ? { kind: "ambiguous", detail } : { kind: "not-sent", detail });
    };

    const req = (secure ? https : http).request(url, {
      method: request.method ?? "POST",
      headers: { ...request.headers, "content-length": String(body.length) },
      agent: secure ? agents.https : agents.http,
    });
    req.on("socket", (socket) => {
      // A reused keep-alive socket is already connected: anything written may arrive.
      // Over TLS nothing is sent before the handshake completes, so a handshake failure
      // is still "not sent". The listener goes on only while connecting, so reused
      // sockets do not collect listeners.
      if (!socket.connecting) connected = true;
      else socket.once(secure ? "secureConnect" : "connect", () => (connected = true));
    });
    req.on("error", (err: NodeJS.ErrnoException) => failed(err.code ?? err.message));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          res.destroy();
          settle({ kind: "ambiguous", detail: `response body over ${limit} bytes` });
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", (err: NodeJS.ErrnoException) => failed(err.code ?? err.message));
      res.on("end", () =>
        settle({
          kind: "response",
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    const onAbort = (): void => {
      const reason = request.signal.reason;
      failed(reason instanceof Error && reason.name === "TimeoutError" ? "timeout" : "aborted");
      req.destroy();
    };
    request.signal.addEventListener("abort", onAbort, { once: true });
    req.end(body);
  });
}
