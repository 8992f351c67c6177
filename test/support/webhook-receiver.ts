/**
 * A real HTTP server standing in for our webhook ingress: it runs one provider's own
 * ProviderWebhook (parse/ack/retryLater) on every push, so tests see exactly what the
 * core would be given. Tests can make it answer the next pushes otherwise (retryLater(),
 * any status or reply, or no answer at all), stop it and start it again on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { InboundEvent, ProviderWebhook } from "../../src/core/provider.js";
import { parsePush } from "../../src/ingress/parse-push.js";

/**
 * How to answer one push instead of parsing and acknowledging it:
 * - "retry": the webhook's retryLater(), as when storing the push failed;
 * - a status: that status with retryLater()'s headers and body;
 * - a reply: exactly that status, body and headers (none when omitted);
 * - "hang": never answer.
 */
export type WebhookAnswer =
  | "retry"
  | "hang"
  | number
  | { readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };

export interface WebhookReceiverOptions {
  /** The URL path the receiver advertises (any path is served). */
  readonly path?: string;
}

export interface WebhookReceiver {
  /** Where to push; stays the same across stop() and start(). */
  readonly url: string;
  /** Every raw body received, acknowledged or not, in arrival order. */
  readonly bodies: string[];
  /** Events of acknowledged pushes, in arrival order. */
  readonly events: InboundEvent[];
  /**
   * Answers for the next pushes, one each, whatever their body; once empty, pushes are
   * parsed and acknowledged (a malformed one gets 400 and adds no event).
   */
  readonly answers: WebhookAnswer[];
  /** Called with each received push's body before it is answered, e.g. to record the virtual time. */
  onRequest: ((body: string) => void) | undefined;
  /** Closes the server (and every connection); pushes are then refused. Idempotent. */
  stop(): Promise<void>;
  /** Listens again on the same port after stop(). */
  start(): Promise<void>;
}

type Reply = { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body: string };

export async function startWebhookReceiver(
  webhook: ProviderWebhook,
  options: WebhookReceiverOptions = {},
): Promise<WebhookReceiver> {
  const bodies: string[] = [];
  const events: InboundEvent[] = [];
  const answers: WebhookAnswer[] = [];
  let server: Server | undefined;
  let port = 0;

  const reply = (answer: Exclude<WebhookAnswer, "hang">): Reply => {
    if (answer === "retry") return webhook.retryLater();
    if (typeof answer === "number") return { ...webhook.retryLater(), status: answer };
    return answer;
  };

  const handle = async (req: IncomingMessage): Promise<Reply | undefined> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const text = body.toString("utf8");
    bodies.push(text);
    receiver.onRequest?.(text);
    const answer = answers.shift();
    if (answer === "hang") return undefined;
    if (answer !== undefined) return reply(answer);
    // The ingress's own parse step (nesting guard included), so a push refused there is refused here.
    const parsed = parsePush(webhook, { method: req.method ?? "", headers: req.headers, query: new URLSearchParams(), body });
    if (parsed.kind === "malformed") return { status: 400, body: parsed.reason };
    if (parsed.kind === "parser-error") throw parsed.error;
    events.push(...parsed.events);
    return webhook.ack();
  };

  const respond = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req).then(
      (r) => {
        if (r !== undefined) res.writeHead(r.status, r.headers).end(r.body);
      },
      (error: unknown) => {
        // Not a malformed push but a parser bug: fail loudly rather than hang the sender.
        res.destroy();
        throw error;
      },
    );
  };

  const start = async (): Promise<void> => {
    const s = createServer(respond);
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  await start();

  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}${options.path ?? "/webhooks/test/test-token-0123456789"}`,
    bodies,
    events,
    answers,
    onRequest: undefined,
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start,
  };
  return receiver;
}
