/**
 * The webhook port: the only listener exposed to the Internet, so it serves provider
 * callbacks and nothing else. Per push: authenticate (per-provider secret token in the
 * path or the X-Voicecode-Token header, constant-time), parse with the provider's own
 * parser, store durably, and only then acknowledge in the provider's format; then wake
 * the watchers.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { type Provider, WebhookParseError, type WebhookReply } from "../core/provider.js";
import type { Store } from "../store/store.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import { tokenMatches } from "./token.js";

export interface WebhookRoute {
  readonly provider: Provider;
  /** The secret the provider's configured callback URL carries. */
  readonly token: string;
}

export interface WebhookMetrics {
  /** result: accepted | duplicate | unauthorized | malformed | store_error | not_found */
  request(provider: string, result: string): void;
  /** Reports in a stored push that the provider's adapter could not use (InboundEvent.unreadable). */
  unreadable?(provider: string, count: number): void;
}

export interface WebhookServerOptions {
  readonly routes: readonly WebhookRoute[];
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly metrics?: WebhookMetrics;
  /** Largest accepted push; Kingsoft batches 200 reports, far below this. */
  readonly maxBodyBytes?: number;
  readonly now?: () => number;
}

export interface WebhookServer {
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting; in-flight pushes finish (and are acknowledged) first. */
  close(): Promise<void>;
  /** Cuts every connection now (shutdown grace expired); the providers will retry. */
  forceClose(): void;
}

/** `/webhooks/<provider>` or `/webhooks/<provider>/<token>` */
const ROUTE = /^\/webhooks\/([a-z0-9-]+)(?:\/([^/]+))?\/?$/;

export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const routes = new Map(options.routes.map((r) => [r.provider.name, r] as const));
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? { request() {} };
  const log = options.logger.child({ component: "webhook" });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://webhook.invalid");
    const match = ROUTE.exec(url.pathname);
    const route = match?.[1] === undefined ? undefined : routes.get(match[1]);
    if (route === undefined) {
      metrics.request("unknown", "not_found");
      return json(res, 404, { error: "not found" });
    }
    const name = route.provider.name;
    const presented = match?.[2] ?? header(req, "x-voicecode-token") ?? "";
    if (!tokenMatches(route.token, presented)) {
      metrics.request(name, "unauthorized");
      log.warn({ provider: name }, "webhook with a wrong or missing token");
      return json(res, 401, { error: "unauthorized" });
    }
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return json(res, 405, { error: "method not allowed; use POST" });
    }

    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        metrics.request(name, "malformed");
        return json(res, 413, { error: err.message });
      }
      throw err;
    }

    let events: ReturnType<Provider["webhook"]["parse"]>;
    try {
      events = route.provider.webhook.parse({
        method: req.method,
        headers: req.headers,
        query: url.searchParams,
        body,
      });
    } catch (err) {
      if (err instanceof WebhookParseError) {
        metrics.request(name, "malformed");
        log.warn({ provider: name, reason: err.message }, "malformed webhook");
        return json(res, 400, { error: `malformed ${name} callback: ${err.message}` });
      }
      throw err;
    }

    let result: Awaited<ReturnType<Store["ingest"]>>;
    try {
      result = await options.store.ingest(name, events, now());
    } catch (err) {
      // Not acknowledged: the provider keeps the push and retries it.
      metrics.request(name, "store_error");
      log.error({ provider: name, err: errorText(err) }, "storing webhook failed");
      return reply(res, route.provider.webhook.retryLater());
    }
    options.bus.publish(result.appended);
    metrics.request(name, result.appended.length === 0 && result.duplicates > 0 ? "duplicate" : "accepted");
    const unreadable = events.filter((e) => e.unreadable === true).length;
    if (unreadable > 0) {
      metrics.unreadable?.(name, unreadable);
      log.warn({ provider: name, unreadable }, "webhook had reports we cannot use: acknowledged and kept masked (parked)");
    }
    log.info(
      {
        provider: name,
        received: events.length,
        applied: result.appended.length,
        duplicates: result.duplicates,
        stale: result.stale,
        parked: result.parked,
      },
      "webhook stored",
    );
    return reply(res, route.provider.webhook.ack());
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err: errorText(err) }, "webhook handler failed");
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  let closing: Promise<void> | undefined;
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
    forceClose() {
      server.closeAllConnections();
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: ServerResponse, r: WebhookReply): void {
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
