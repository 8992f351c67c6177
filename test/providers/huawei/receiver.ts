/**
 * A real HTTP server standing in for our webhook ingress: it runs the Huawei adapter's
 * own parse/ack on every push, so tests see exactly what the core would be given.
 */
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { InboundEvent } from "../../../src/core/provider.js";
import { WebhookParseError } from "../../../src/core/provider.js";
import { createHuaweiWebhook } from "../../../src/providers/huawei/webhook.js";

export interface Receiver {
  readonly url: string;
  /** Every raw body received, in arrival order. */
  readonly bodies: string[];
  /** Events of acknowledged pushes, in arrival order. */
  readonly events: InboundEvent[];
  /** "retry" answers the next pushes with retryLater(); once empty, pushes are parsed and acknowledged. */
  readonly answers: "retry"[];
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const webhook = createHuaweiWebhook();
  const bodies: string[] = [];
  const events: InboundEvent[] = [];
  const answers: "retry"[] = [];

  const handle = async (req: IncomingMessage): Promise<{ status: number; body: string }> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    bodies.push(body.toString("utf8"));
    if (answers.shift() === "retry") return webhook.retryLater();
    try {
      events.push(...webhook.parse({ method: req.method ?? "", headers: req.headers, query: new URLSearchParams(), body }));
      return webhook.ack();
    } catch (error) {
      if (error instanceof WebhookParseError) return { status: 400, body: error.message };
      throw error;
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req).then((reply) => res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks/huawei/test-token-0123456789`,
    bodies,
    events,
    answers,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
