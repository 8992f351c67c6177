/** A stand-in for our webhook ingress: parses Tencent pushes with the real adapter and answers like the ingress. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { InboundEvent, WebhookReply } from "../../../src/core/provider.js";
import { WebhookParseError } from "../../../src/core/provider.js";
import { createTencentWebhook } from "../../../src/providers/tencent/webhook.js";

export interface TencentReceiver {
  readonly url: string;
  /** Events of acknowledged pushes, in arrival order. */
  readonly events: InboundEvent[];
  /** Raw bodies of every push received, acknowledged or not. */
  readonly bodies: string[];
  /** Answers the next n pushes with retryLater(), as when the store write fails. */
  failNext(n: number, reply?: WebhookReply): void;
  stop(): Promise<void>;
}

export async function startTencentReceiver(): Promise<TencentReceiver> {
  const webhook = createTencentWebhook();
  const events: InboundEvent[] = [];
  const bodies: string[] = [];
  const failures: WebhookReply[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      bodies.push(body.toString("utf8"));
      const answer = (reply: WebhookReply) => res.writeHead(reply.status, reply.headers).end(reply.body);
      let parsed: readonly InboundEvent[];
      try {
        parsed = webhook.parse({ method: req.method ?? "", headers: req.headers, query: new URLSearchParams(), body });
      } catch (err) {
        if (!(err instanceof WebhookParseError)) throw err;
        res.writeHead(400).end(err.message);
        return;
      }
      const failure = failures.shift();
      if (failure !== undefined) return answer(failure);
      events.push(...parsed);
      answer(webhook.ack());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/tencent/test-token-0123456789`,
    events,
    bodies,
    failNext(n, reply = webhook.retryLater()) {
      for (let i = 0; i < n; i++) failures.push(reply);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
