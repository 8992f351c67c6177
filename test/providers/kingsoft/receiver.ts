/**
 * A real HTTP server standing in for our webhook ingress: it runs the Kingsoft
 * adapter's own parse/ack on every push, so tests see what the core would store.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { InboundEvent } from "../../../src/core/provider.js";
import { WebhookParseError } from "../../../src/core/provider.js";
import { createKingsoftWebhook } from "../../../src/providers/kingsoft/webhook.js";

/** An answer to give instead of parsing: a status with a body ("retry" = retryLater()). */
export type Answer = { readonly status: number; readonly body: string } | "retry";

export interface Receiver {
  readonly url: string;
  /** Every raw body received, in arrival order. */
  readonly bodies: string[];
  /** Events of acknowledged pushes, in arrival order. */
  readonly events: InboundEvent[];
  /** Answers for the next requests; once empty, pushes are parsed and acknowledged. */
  readonly answers: Answer[];
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const webhook = createKingsoftWebhook();
  const bodies: string[] = [];
  const events: InboundEvent[] = [];
  const answers: Answer[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      bodies.push(body.toString("utf8"));
      const answer = answers.shift();
      if (answer === "retry") {
        const r = webhook.retryLater();
        return void res.writeHead(r.status, r.headers).end(r.body);
      }
      if (answer !== undefined) return void res.writeHead(answer.status).end(answer.body);
      try {
        events.push(...webhook.parse({ method: req.method ?? "", headers: req.headers, query: new URLSearchParams(), body }));
        const r = webhook.ack();
        res.writeHead(r.status, r.headers).end(r.body);
      } catch (error) {
        if (!(error instanceof WebhookParseError)) throw error;
        res.writeHead(400).end(error.message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/webhooks/kingsoft/test-token-0123456789`,
    bodies,
    events,
    answers,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
