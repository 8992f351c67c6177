/**
 * The API port: connect-node (Connect protocol and gRPC-Web, no gRPC: that has its own
 * port) over HTTP/1.1 and h2c on one cleartext port, plus /healthz, /readyz, /metrics.
 */
import { type IncomingMessage, type ServerResponse, createServer as createHttp1Server } from "node:http";
import { type Http2Session, createServer as createHttp2Server } from "node:http2";
import { type AddressInfo, type Server as NetServer, type Socket, createServer as createNetServer } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Health } from "./health.js";
import { type MetricsSource, createProbes } from "./http/probes.js";
import { sniffProtocol } from "./http/sniff-protocol.js";

/** A connection that hasn't said which protocol it speaks by then is dropped. */
const PREFACE_TIMEOUT_MS = 10_000;
/**
 * Node enforces headersTimeout/requestTimeout only for sockets its own listener
 * accepted, so a handed-over HTTP/1 connection gets this deadline for its first request.
 */
const FIRST_REQUEST_TIMEOUT_MS = 30_000;
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
  const handler = connectNodeAdapter({
    routes: options.routes,
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: API_MAX_REQUEST_BYTES,
    fallback: createProbes({ health: options.health, metrics: options.metrics, logger: options.logger }),
  });

  // Per accepted socket: still sniffing, h2, or HTTP/1 with its requests in flight
  // (the http server never listens itself, so its own idle tracking is off).
  const connections = new Map<Socket, Connection>();
  const sessions = new Set<Http2Session>();
  let draining = false;

  const http1 = createHttp1Server((req: IncomingMessage, res: ServerResponse) => {
    const conn = connections.get(req.socket);
    if (conn?.protocol === "http1") {
      clearTimeout(conn.firstRequest);
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
  const http2 = createHttp2Server();
  http2.on("request", handler);
  http2.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (draining) session.close();
  });

  const net: NetServer = createNetServer((socket) => {
    connections.set(socket, { protocol: "unknown" });
    socket.once("close", () => connections.delete(socket));
    // Resets from vanished clients are routine; the protocol servers report the rest.
    socket.on("error", (err) => log?.debug({ err: err.message }, "api connection error"));
    if (draining) {
      socket.destroy();
      return;
    }
    sniffProtocol(socket, PREFACE_TIMEOUT_MS, (protocol) => {
      if (protocol === "h2") {
        connections.set(socket, { protocol });
        // http2 feeds itself the unshifted bytes (socket.read()) before taking the handle.
        http2.emit("connection", socket);
      } else {
        const firstRequest = setTimeout(() => socket.destroy(), FIRST_REQUEST_TIMEOUT_MS).unref();
        socket.once("close", () => clearTimeout(firstRequest));
        connections.set(socket, { protocol, inFlight: 0, firstRequest });
        http1.emit("connection", socket);
        // The http parser reads the handle directly; the unshifted bytes only reach it as
        // 'data' events of the (paused) stream, and they come out before any new read.
        socket.resume();
      }
    });
  });

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
      if (net.listening) net.close();
      for (const session of sessions) session.destroy();
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}

type Connection =
  | { protocol: "unknown" }
  | { protocol: "h2" }
  | { protocol: "http1"; inFlight: number; firstRequest: NodeJS.Timeout };

/** Ends after the response bytes are flushed, then frees the socket. */
function endSocket(socket: Socket): void {
  socket.end(() => socket.destroy());
}
