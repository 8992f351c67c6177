/**
 * The API port: connect-node (Connect protocol and gRPC-Web, no gRPC: that has its own
 * port) over HTTP/1.1 and h2c on one cleartext port, plus /healthz, /readyz, /metrics.
 */
import { type IncomingMessage, type ServerResponse, createServer as createHttp1Server } from "node:http";
import {
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  createServer as createHttp2Server,
} from "node:http2";
import { type AddressInfo, type Server as NetServer, type Socket, createServer as createNetServer } from "node:net";
import { type TLSSocket, createServer as createTlsServer } from "node:tls";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Health } from "./health.js";
import { closeWhenIdle, limitRequestTime } from "./http/h2-deadlines.js";
import { type MetricsSource, createProbes } from "./http/probes.js";
import { sniffProtocol } from "./http/sniff-protocol.js";
import { admitClientCertificate } from "./http/client-cert.js";
import type { TlsSource } from "../tls/tls-source.js";
import type { TlsMaterial } from "../tls/read-material.js";

/**
 * How long API-port clients may take; each applies to every request of a connection, not
 * only the first. Responses are not timed (a WatchStatus stream stays open).
 */
export interface ApiTimeouts {
  /**
   * From a connection's first byte until it shows its protocol, and from an HTTP/1.1
   * request's first byte until its headers are complete (ms). (An h2c stream's headers
   * are covered by idleMs: the session has no open stream until they are complete.)
   */
  readonly headersMs: number;
  /**
   * Until a request's body is complete (ms; at least headersMs): from its first byte on
   * HTTP/1.1, from its headers on h2c.
   */
  readonly requestMs: number;
  /** An HTTP/1.1 connection between requests, or an h2c session without an open stream (ms). */
  readonly idleMs: number;
}

/** The webhook port's header and request deadlines; idle connections go after 30 s. */
export const DEFAULT_API_TIMEOUTS: ApiTimeouts = { headersMs: 10_000, requestMs: 30_000, idleMs: 30_000 };

/**
 * The largest request message the API port reads, like the gRPC and webhook ports: ours
 * are a few hundred bytes. connect-node refuses a larger one from its declared length
 * (Content-Length, or the gRPC-Web/Connect envelope) before reading it, else as it passes.
 */
export const API_MAX_REQUEST_BYTES = 1024 * 1024;

export interface ApiServerOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly health: Health;
  readonly metrics?: MetricsSource;
  readonly logger?: Logger;
  /** Merged over DEFAULT_API_TIMEOUTS. */
  readonly timeouts?: Partial<ApiTimeouts>;
  /**
   * TLS with ALPN (h2, http/1.1) instead of the cleartext sniffing; the material follows
   * the source (rotation without restart). A client CA makes it mTLS (client-cert.ts).
   */
  readonly tls?: TlsSource;
}

export interface ApiServer {
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, closes idle connections, resolves when every connection has closed. */
  drain(): Promise<void>;
  /** Destroys every connection now. */
  forceClose(): void;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const log = options.logger?.child({ component: "api" });
  const connectHandler = connectNodeAdapter({
    routes: options.routes,
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: API_MAX_REQUEST_BYTES,
    fallback: createProbes({ health: options.health, metrics: options.metrics, logger: options.logger }),
  });
  const mtls = options.tls?.current().ca !== undefined;
  const handler: typeof connectHandler = mtls
    ? (req, res) => {
        if (admitClientCertificate(req, res)) connectHandler(req, res);
      }
    : connectHandler;

  // Per accepted socket: still sniffing, h2, or HTTP/1 with its requests in flight
  // (what drain() may close at once).
  const connections = new Map<Socket, Connection>();
  const sessions = new Set<Http2Session>();
  let draining = false;

  const timeouts = { ...DEFAULT_API_TIMEOUTS, ...options.timeouts };
  const http1Options = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.idleMs,
    // How often Node looks for requests past their deadline.
    connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
  };
  const http1 = createHttp1Server(http1Options, (req: IncomingMessage, res: ServerResponse) => {
    const conn = connections.get(req.socket);
    if (conn?.protocol === "http1") {
      conn.inFlight += 1;
      res.once("close", () => {
        conn.inFlight -= 1;
        if (draining && conn.inFlight === 0) endSocket(req.socket);
      });
    }
    if (draining) res.setHeader("connection", "close");
    // Answered before the body was all read (too large, or not wanted): the rest is not
    // read off the wire to find the next request; the connection ends instead.
    const socket = req.socket;
    res.once("finish", () => {
      if (!req.complete) endSocket(socket);
    });
    handler(req, res);
  });
  // Node keeps headersTimeout/requestTimeout (for every request of a connection, with a
  // 408) only for connections it tracks, and starts tracking when the server emits
  // 'listening'. This server never listens itself (connections are handed over after
  // sniffing), so it is told it does.
  http1.emit("listening");

  const http2 = createHttp2Server();
  http2.on("request", (req: Http2ServerRequest, res: Http2ServerResponse) => {
    limitRequestTime(req, res, timeouts.requestMs);
    handler(req, res);
  });
  http2.on("session", (session: Http2Session) => {
    closeWhenIdle(session, timeouts.idleMs);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (draining) session.close();
  });

  /** A connection whose protocol is known goes to the server of that protocol. */
  function hand(socket: Socket, protocol: "h2" | "http1"): void {
    if (protocol === "h2") {
      connections.set(socket, { protocol });
      // http2 feeds itself the unshifted bytes (socket.read()) before taking the handle.
      http2.emit("connection", socket);
    } else {
      connections.set(socket, { protocol, inFlight: 0 });
      http1.emit("connection", socket);
    }
  }

  function accept(socket: Socket): boolean {
    connections.set(socket, { protocol: "unknown" });
    socket.once("close", () => connections.delete(socket));
    // Resets from vanished clients are routine; the protocol servers report the rest.
    socket.on("error", (err) => log?.debug({ err: err.message }, "api connection error"));
    if (draining) socket.destroy();
    return !draining;
  }

  const tls = options.tls;
  const net: NetServer =
    tls === undefined
      ? createNetServer((socket) => {
          if (!accept(socket)) return;
          sniffProtocol(socket, timeouts.headersMs, (protocol) => {
            hand(socket, protocol);
            // The http parser reads the handle directly; the unshifted bytes only reach it as
            // 'data' events of the (paused) stream, and they come out before any new read.
            if (protocol === "http1") socket.resume();
          });
        })
      : createTlsServer(
          {
            ...secureOptions(tls.current()),
            ALPNProtocols: ["h2", "http/1.1"],
            // Asked of every client, checked per request (client-cert.ts) so probes pass.
            requestCert: mtls,
            rejectUnauthorized: false,
            handshakeTimeout: timeouts.headersMs,
          },
          (socket: TLSSocket) => {
            if (!accept(socket)) return;
            // No ALPN (an old client) is HTTP/1.1, as for https.
            hand(socket, socket.alpnProtocol === "h2" ? "h2" : "http1");
          },
        );
  if (tls !== undefined) {
    const secure = net as ReturnType<typeof createTlsServer>;
    // Connections still in their handshake: tracked so drain() and forceClose() end them.
    secure.on("connection", (raw: Socket) => {
      accept(raw);
    });
    secure.on("tlsClientError", (err) => log?.debug({ err: err.message }, "api TLS handshake failed"));
    const unsubscribe = tls.subscribe((material) => secure.setSecureContext(secureOptions(material)));
    secure.once("close", unsubscribe);
  }

  let drained: Promise<void> | undefined;
  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        net.once("error", reject);
        net.listen(port, host, () => {
          net.off("error", reject);
          resolve((net.address() as AddressInfo).port);
        });
      });
    },
    drain() {
      drained ??= new Promise<void>((resolve) => {
        draining = true;
        // Stops Node's deadline checks; the connections themselves are handled below.
        http1.close();
        // net.Server counts every socket it accepted, whichever server took it over.
        net.close(() => resolve());
        for (const session of sessions) session.close();
        for (const [socket, conn] of connections) {
          if (conn.protocol === "unknown" || (conn.protocol === "http1" && conn.inFlight === 0)) socket.destroy();
        }
      });
      return drained;
    },
    forceClose() {
      draining = true;
      http1.close();
      if (net.listening) net.close();
      for (const session of sessions) session.destroy();
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}

type Connection =
  | { protocol: "unknown" }
  | { protocol: "h2" }
  | { protocol: "http1"; inFlight: number };

function secureOptions(material: TlsMaterial): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return material.ca === undefined
    ? { cert: material.cert, key: material.key }
    : { cert: material.cert, key: material.key, ca: material.ca };
}

/** Ends after the response bytes are flushed, then frees the socket. */
function endSocket(socket: Socket): void {
  socket.end(() => socket.destroy());
}
