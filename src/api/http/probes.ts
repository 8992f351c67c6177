/**
 * The non-RPC paths of the API port: liveness, readiness and Prometheus metrics.
 * connect-node hands every path it doesn't route to this fallback.
 */
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Health } from "../health.js";

// connect-node doesn't export these; they cover both http and http2 compat objects.
export type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type NodeServerResponse = Parameters<NodeHandlerFn>[1];

export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface ProbesOptions {
  readonly health: Health;
  readonly metrics?: MetricsSource;
  readonly logger?: Logger;
}

export function createProbes({ health, metrics, logger }: ProbesOptions): NodeHandlerFn {
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    const known = path === "/healthz" || path === "/readyz" || (path === "/metrics" && metrics !== undefined);
    if (!known) return json(res, 404, { error: "not found" });
    if (req.method !== "GET" && req.method !== "HEAD") {
      return json(res, 405, { error: "method not allowed; use GET" }, { allow: "GET, HEAD" });
    }
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      return health.serving ? json(res, 200, { status: "ready" }) : json(res, 503, { status: "not ready" });
    }
    metrics?.render().then(
      (text) => send(res, 200, { "content-type": metrics.contentType }, text),
      (err: unknown) => {
        logger?.error({ component: "api", err: String(err) }, "rendering metrics failed");
        json(res, 500, { error: "internal error" });
      },
    );
  };
}

function json(res: NodeServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, { ...headers, "content-type": "application/json" }, JSON.stringify(body));
}

function send(res: NodeServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
