/**
 * What the core reports; src/metrics.ts implements it with prom-client. Label values are
 * the names the README and the proto use (ACCEPTED, FAILED, PENDING; COMPLETED; BUSY...),
 * so a dashboard reads like the API.
 *
 * Every metric of a request carries its tenant: tenant names come from configuration,
 * so the label's cardinality stays bounded.
 */
import type { SendResponse } from "../../gen/voicecode/v1/voicecode_pb.js";
import { CallState, type EventRecord, FailureReason } from "./model.js";
import type { SendOutcome } from "./provider.js";
import { isTerminal } from "./states.js";

/**
 * How a Send ended: the state it returned (ACCEPTED, FAILED when the provider refused,
 * PENDING when its answer was lost), REPLAYED for an idempotent retry, ERROR when the
 * RPC failed (invalid and refused requests are not counted here).
 */
export type SendOutcomeLabel = "ACCEPTED" | "FAILED" | "PENDING" | "REPLAYED" | "ERROR";

/** A provider request's answer, named as the state Send then returns. */
export type ProviderOutcomeLabel = "ACCEPTED" | "FAILED" | "PENDING";

export interface CoreMetrics {
  /** One Send handled, with its end-to-end duration in seconds. */
  sendFinished(provider: string, outcome: SendOutcomeLabel, tenant: string, seconds: number): void;
  /** A Send refused by a limit or the destination policy (reason: the ErrorInfo reason). */
  sendRefused(tenant: string, reason: string): void;
  /** One request to a provider's Send API (the adapter call), in seconds. */
  providerRequest(provider: string, outcome: ProviderOutcomeLabel, tenant: string, seconds: number): void;
  /** A call reached its terminal state; reason is set for FAILED only. */
  callFinished(provider: string, state: "COMPLETED" | "FAILED", reason: string | undefined, tenant: string): void;
  watchOpened(tenant: string): void;
  watchClosed(tenant: string): void;
}

export const noopCoreMetrics: CoreMetrics = {
  sendFinished() {},
  sendRefused() {},
  providerRequest() {},
  callFinished() {},
  watchOpened() {},
  watchClosed() {},
};

export function providerOutcomeLabel(outcome: SendOutcome): ProviderOutcomeLabel {
  switch (outcome.kind) {
    case "accepted":
      return "ACCEPTED";
    case "rejected":
      return "FAILED";
    case "ambiguous":
      return "PENDING";
  }
}

export function sendOutcomeLabel(
  response: Pick<SendResponse, "idempotentReplay" | "state">,
): SendOutcomeLabel {
  if (response.idempotentReplay) return "REPLAYED";
  if (response.state === CallState.ACCEPTED) return "ACCEPTED";
  return response.state === CallState.FAILED ? "FAILED" : "PENDING";
}

/**
 * Counts the events that end a call. The store appends at most one terminal event per
 * call, so each call is counted once: a provisional FAILED (whose reason a precise push
 * may still replace) is not terminal, and the precise FAILED that follows it is.
 */
export function countFinishedCalls(metrics: Pick<CoreMetrics, "callFinished">, events: readonly EventRecord[]): void {
  for (const event of events) {
    // A failure followed by another attempt (failover, outcome fallback) ends nothing yet.
    if (!isTerminal(event.state) || event.provisional || event.continues) continue;
    if (event.state === CallState.COMPLETED) {
      metrics.callFinished(event.provider, "COMPLETED", undefined, event.tenant);
    } else {
      metrics.callFinished(event.provider, "FAILED", FailureReason[event.failureReason], event.tenant);
    }
  }
}
