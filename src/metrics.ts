/** Prometheus metrics, rendered on the API port's /metrics (never on the webhook port). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CoreMetrics } from "./core/metrics.js";
import type { WebhookMetrics } from "./ingress/webhook-server.js";

/** Routing's view of its providers: the circuit breaker states. */
export interface RoutingMetrics {
  breakerState(provider: string, state: "closed" | "half-open" | "open"): void;
}

export interface Metrics {
  readonly core: CoreMetrics;
  readonly routing: RoutingMetrics;
  readonly webhook: WebhookMetrics;
  readonly contentType: string;
  render(): Promise<string>;
}

/** Seconds: 5 ms to 10 s (the default provider timeout), then +Inf. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sends = new Counter({
    name: "voicecode_sends_total",
    help: "Send requests handled, by provider, outcome (ACCEPTED, FAILED, PENDING, REPLAYED, ERROR) and tenant",
    labelNames: ["provider", "outcome", "tenant"] as const,
    registers: [registry],
  });
  const sendSeconds = new Histogram({
    name: "voicecode_send_duration_seconds",
    help: "Send handling time (store writes and the provider request), by provider, outcome and tenant",
    labelNames: ["provider", "outcome", "tenant"] as const,
    // Provider APIs answer in tens to hundreds of ms; the default timeout is 10 s.
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const providerSeconds = new Histogram({
    name: "voicecode_provider_request_duration_seconds",
    help: "Provider Send API request time, by provider, outcome (ACCEPTED, FAILED, PENDING) and tenant",
    labelNames: ["provider", "outcome", "tenant"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const finished = new Counter({
    name: "voicecode_calls_finished_total",
    help: "Calls that reached a terminal state, by provider, state (COMPLETED, FAILED), failure reason and tenant",
    labelNames: ["provider", "state", "reason", "tenant"] as const,
    registers: [registry],
  });
  const callFinished = (provider: string, state: string, reason: string | undefined, tenant: string) =>
    finished.inc(reason === undefined ? { provider, state, tenant } : { provider, state, reason, tenant });
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
  const breakers = new Gauge({
    name: "voicecode_provider_circuit_state",
    help: "Each provider's circuit breaker: 0 closed (used), 1 half-open (one probe), 2 open (skipped by routing)",
    labelNames: ["provider"] as const,
    registers: [registry],
  });
  const BREAKER_VALUES = { closed: 0, "half-open": 1, open: 2 } as const;
  return {
    routing: {
      breakerState: (provider, state) => breakers.set({ provider }, BREAKER_VALUES[state]),
    },
    core: {
      sendFinished: (provider, outcome, tenant, seconds) => {
        sends.inc({ provider, outcome, tenant });
        sendSeconds.observe({ provider, outcome, tenant }, seconds);
      },
      sendRefused: (tenant, reason) => refusals.inc({ tenant, reason }),
      providerRequest: (provider, outcome, tenant, seconds) =>
        providerSeconds.observe({ provider, outcome, tenant }, seconds),
      callFinished,
      watchOpened: (tenant) => watches.inc({ tenant }),
      watchClosed: (tenant) => watches.dec({ tenant }),
    },
    webhook: {
      request: (provider, result) => webhooks.inc({ provider, result }),
      unreadable: (provider, count) => unreadable.inc({ provider }, count),
      callFinished,
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
