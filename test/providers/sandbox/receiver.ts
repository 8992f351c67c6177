/**
 * A real HTTP server standing in for our webhook ingress: it runs the sandbox adapter's
 * own parse/ack on every push, so tests see exactly what the core would store.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { InboundEvent, ProviderWebhook } from "../../../src/core/provider.js";
import { WebhookParseError } from "../../../src/core/provider.js";
import { createSandboxWebhook } from "../../../src/providers/sandbox/webhook.js";

/** A status to answer with, or "hang" to never answer. */
export type Answer = number | "hang";

export interface Receiver {
  readonly url: string;
  /** Every raw body received, acknowledged or not, in arrival order. */
  readonly bodies: string[];
  /** Events from acknowledged pushes, in arrival order. */
  readonly events: InboundEvent[];
  /** Answers for the next requests; once empty, pushes are acknowledged. */
  readonly answers: Answer[];
  /** Called with each received request's body, e.g. to record the virtual time. */
  onRequest: ((body: string) => void) | undefined;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export async function startReceiver(webhook: ProviderWebhook = createSandboxWebhook()): Promise<Receiver> {
  const bodies: string[] = [];
  const events: InboundEvent[] = [];
  const answers: Answer[] = [];
  let server: Server | undefined;
  let port = 0;

  const handle = async (req: IncomingMessage): Promise<{ status: number; body: string } | undefined> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    bodies.push(body.toString("utf8"));
    receiver.onRequest?.(body.toString("utf8"));
    const answer = answers.shift() ?? 200;
    if (answer === "hang") return undefined;
    if (answer !== 200) return { status: answer, body: webhook.retryLater().body };
    try {
      const parsed = webhook.parse({
        method: req.method ?? "",
        headers: req.headers,
        query: new URLSearchParams(),
        body,
      });
      events.push(...parsed);
      return { status: 200, body: webhook.ack().body };
    } catch (error) {
      if (error instanceof WebhookParseError) return { status: 400, body: error.message };
      throw error;
    }
  };

  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      void handle(req).then((reply) => {
        if (reply === undefined) return;
        res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  await listen();

  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/webhooks/sandbox/test-secret`,
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
    start: listen,
  };
  return receiver;
}
