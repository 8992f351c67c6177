/** Prometheus metrics, rendered on the API port's /metrics (never on the webhook port). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { CoreMetrics } from "./core/metrics.js";
import type { WebhookMetrics } from "./ingress/webhook-server.js";

export interface Metrics {
  readonly core: CoreMetrics;
  readonly webhook: WebhookMetrics;
  readonly contentType: string;
  render(): Promise<string>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sends = new Counter({
    name: "voicecode_sends_total",
    help: "Send requests that reached a provider decision, by provider, outcome and tenant",
    labelNames: ["provider", "outcome", "tenant"] as const,
    registers: [registry],
  });
  const webhooks = new Counter({
    name: "voicecode_webhook_requests_total",
    help: "Provider callbacks received, by provider and result",
    labelNames: ["provider", "result"] as const,
    registers: [registry],
  });
  const unreadable = new Counter({
    name: "voicecode_webhook_unreadable_reports_total",
    help: "Reports in provider callbacks that could not be used: acknowledged, kept masked for audit, applied to no call",
    labelNames: ["provider"] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: "voicecode_send_refusals_total",
    help: "Sends refused before any provider was asked (limits, destination policy), by tenant and reason",
    labelNames: ["tenant", "reason"] as const,
    registers: [registry],
  });
  const watches = new Gauge({
    name: "voicecode_watch_streams",
    help: "Open WatchStatus streams, by tenant",
    labelNames: ["tenant"] as const,
    registers: [registry],
  });
  return {
    core: {
      sendFinished: (provider, outcome, tenant) => sends.inc({ provider, outcome, tenant }),
      sendRefused: (tenant, reason) => refusals.inc({ tenant, reason }),
      watchOpened: (tenant) => watches.inc({ tenant }),
      watchClosed: (tenant) => watches.dec({ tenant }),
    },
    webhook: {
      request: (provider, result) => webhooks.inc({ provider, result }),
      unreadable: (provider, count) => unreadable.inc({ provider }, count),
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
