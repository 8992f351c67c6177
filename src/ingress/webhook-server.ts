/**
 * The webhook port: the only listener exposed to the Internet, so it serves provider
 * callbacks and nothing else. Per push: authenticate (per-provider secret token in the
 * path or the X-Voicecode-Token header, constant-time), parse with the provider's own
 * parser, store durably, and only then acknowledge in the provider's format; then wake
 * the watchers.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { type LogBindings, startRequest } from "../telemetry/request-scope.js";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { type CoreMetrics, countFinishedCalls } from "../core/metrics.js";
import type { Provider, WebhookReply } from "../core/provider.js";
import type { Store } from "../store/store.js";
import { MAX_PUSH_NESTING } from "./nesting-depth.js";
import { parsePush } from "./parse-push.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import { tokenMatches } from "./token.js";

export interface WebhookRoute {
  readonly provider: Provider;
  /** The secret the provider's configured callback URL carries. */
  readonly token: string;
}

/**
 * What became of one webhook request; every request is counted exactly once.
 * - accepted / duplicate: stored (or already stored) and acknowledged;
 * - unauthorized (401), not_found (404), method_not_allowed (405);
 * - malformed (400, or 413 for a body over the limit): the provider's parser, or the
 *   nesting guard, refused it;
 * - read_error: the body could not be read (the sender went away mid-body);
 * - parser_error (500): the parser threw something other than a WebhookParseError;
 * - store_error (retryLater): the push was not stored, so it is not acknowledged;
 * - internal_error (500): anything else that went wrong in the handler.
 */
export type WebhookResult =
  | "accepted"
  | "duplicate"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "malformed"
  | "read_error"
  | "parser_error"
  | "store_error"
  | "internal_error";

export interface WebhookMetrics extends Partial<Pick<CoreMetrics, "callFinished">> {
  request(provider: string, result: WebhookResult): void;
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
  /** Deepest JSON array/object nesting accepted (see nesting-depth.ts). Default 64. */
  readonly maxNesting?: number;
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
  const maxNesting = options.maxNesting ?? MAX_PUSH_NESTING;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? { request() {} };
  const log = options.logger.child({ component: "webhook" });

  /** Serves one request; answers and returns what to count. `seen` names the provider once known. */
  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    seen: { provider: string },
    ids: LogBindings,
  ): Promise<WebhookResult> {
    const url = new URL(req.url ?? "/", "http://webhook.invalid");
    const match = ROUTE.exec(url.pathname);
    const route = match?.[1] === undefined ? undefined : routes.get(match[1]);
    if (route === undefined) {
      json(res, 404, { error: "not found" });
      return "not_found";
    }
    const name = route.provider.name;
    seen.provider = name;
    const presented = match?.[2] ?? header(req, "x-voicecode-token") ?? "";
    if (!tokenMatches(route.token, presented)) {
      log.warn({ ...ids, provider: name }, "webhook with a wrong or missing token");
      json(res, 401, { error: "unauthorized" });
      return "unauthorized";
    }
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      json(res, 405, { error: "method not allowed; use POST" });
      return "method_not_allowed";
    }

    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        json(res, 413, { error: err.message });
        return "malformed";
      }
      // The sender went away (or the socket broke) mid-body: nothing to parse.
      log.warn({ ...ids, provider: name, err: errorText(err) }, "webhook body could not be read");
      json(res, 400, { error: "the request body could not be read" });
      return "read_error";
    }

    const parsed = parsePush(
      route.provider.webhook,
      { method: req.method, headers: req.headers, query: url.searchParams, body },
      { maxNesting },
    );
    if (parsed.kind === "malformed") {
      log.warn({ ...ids, provider: name, reason: parsed.reason }, "malformed webhook");
      json(res, 400, { error: `malformed ${name} callback: ${parsed.reason}` });
      return "malformed";
    }
    if (parsed.kind === "parser-error") {
      // A bug in our parser, not the sender's fault: 500 (the provider retries, and the
      // push succeeds once the parser is fixed). Never the error text: it may quote the body.
      log.error({ ...ids, provider: name, err: errorText(parsed.error) }, "webhook parser failed");
      json(res, 500, { error: "internal error" });
      return "parser_error";
    }
    const { events } = parsed;

    let result: Awaited<ReturnType<Store["ingest"]>>;
    try {
      result = await options.store.ingest(name, events, now());
    } catch (err) {
      // Not acknowledged: the provider keeps the push and retries it.
      log.error({ ...ids, provider: name, err: errorText(err) }, "storing webhook failed");
      reply(res, route.provider.webhook.retryLater());
      return "store_error";
    }
    options.bus.publish(result.appended);
    const unreadable = events.filter((e) => e.unreadable === true).length;
    if (unreadable > 0) {
      metrics.unreadable?.(name, unreadable);
      log.warn({ ...ids, provider: name, unreadable }, "webhook had reports we cannot use: acknowledged and kept masked (parked)");
    }
    countFinishedCalls({ callFinished: (...args) => metrics.callFinished?.(...args) }, result.appended);
    log.info(
      {
        ...ids,
        provider: name,
        received: events.length,
        applied: result.appended.length,
        duplicates: result.duplicates,
        stale: result.stale,
        parked: result.parked,
      },
      "webhook stored",
    );
    reply(res, route.provider.webhook.ack());
    return result.appended.length === 0 && result.duplicates > 0 ? "duplicate" : "accepted";
  }

  const server = createServer((req, res) => {
    const seen = { provider: "unknown" };
    // Named by a configured provider only (never the path's token, nor whatever a stranger puts there).
    const named = ROUTE.exec(new URL(req.url ?? "/", "http://webhook.invalid").pathname)?.[1];
    const scope = startRequest({
      name: `webhook ${named !== undefined && routes.has(named) ? named : "unknown"}`,
      header: (name) => header(req, name),
      attributes: { "http.request.method": req.method ?? "" },
    });
    res.setHeader("x-request-id", scope.requestId);
    scope.run(() => handle(req, res, seen, scope.logBindings)).then(
      (result) => {
        scope.end(result === "accepted" || result === "duplicate" ? undefined : { code: result });
        metrics.request(seen.provider, result);
      },
      (err: unknown) => {
        scope.end({ code: "internal_error" });
        metrics.request(seen.provider, "internal_error");
        log.error({ ...scope.logBindings, provider: seen.provider, err: errorText(err) }, "webhook handler failed");
        if (!res.headersSent) json(res, 500, { error: "internal error" });
        else res.destroy();
      },
    );
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
