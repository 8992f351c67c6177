/**
 * What the core needs from a provider adapter. Everything about one provider's wire
 * format lives in src/providers/<name>/; the core only sees these shapes.
 */
import type { CallState, FailureReason } from "./model.js";

export interface ProviderSendRequest {
  /** Our call id: adapters put it in the provider's echo field where one exists. */
  readonly callId: string;
  /** E.164 with "+", already validated. */
  readonly phoneNumber: string;
  /** Digits only, already validated. Never log it. */
  readonly code: string;
  readonly playTimes: number;
}

/**
 * Every Send ends in exactly one of these. `rejected` means the provider definitively
 * placed no call; `ambiguous` means the request may have gone through (timeout, reset
 * after sending, unparseable 5xx), so nothing may retry it on another provider.
 */
export type SendOutcome =
  | {
      readonly kind: "accepted";
      readonly providerCallId: string;
      readonly providerCode: string;
      readonly providerText: string;
    }
  | {
      readonly kind: "rejected";
      readonly reason: FailureReason;
      readonly providerCode: string;
      readonly providerText: string;
      /**
       * "number": the refusal is about the destination (e.g. a per-number frequency
       * limit), so no other provider may be tried; default: judged by `reason`.
       */
      readonly scope?: "number";
    }
  | { readonly kind: "ambiguous"; readonly detail: string };

/** An HTTP request that reached a provider's webhook route, body unparsed. */
export interface WebhookRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

/** One provider status push, normalized. */
export interface InboundEvent {
  /**
   * Identifies this push among the provider's retries: the same push retried has the
   * same key, a different push never does (e.g. provider call id + event type).
   */
  readonly dedupeKey: string;
  readonly providerCallId: string;
  /** Our call id when the provider echoes it back (SessionContext, userData, ExtId). */
  readonly callId: string | undefined;
  readonly state: CallState;
  readonly failureReason: FailureReason;
  readonly providerCode: string;
  readonly providerText: string;
  readonly occurredAtMs: number | undefined;
  /**
   * A FAILED event whose reason a later, precise push for the same call may replace
   * (Tencent sends a coarse call result and, separately, the exact failure code, in
   * either order). A non-provisional FAILED push refines a provisional one; nothing
   * else may follow a terminal event. Default false.
   */
  readonly provisional?: boolean;
  /**
   * A report the provider sent that the adapter cannot use (no call id, an unknown
   * status): acknowledged rather than refused, so a provider that re-pushes refused
   * batches does not re-push the good reports beside it forever. It carries no
   * provider call id and no echo, so the store keeps it with the pushes it cannot match
   * (parked) and never applies it; providerText holds the raw report, numbers masked;
   * the webhook server counts it. Default false.
   */
  readonly unreadable?: boolean;
}

export interface WebhookReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface ProviderWebhook {
  /**
   * Parses and validates one push. Throws WebhookParseError for a body the provider
   * would never send; the ingress answers 400 and stores nothing.
   */
  parse(request: WebhookRequest): readonly InboundEvent[];
  /** The provider's own success acknowledgement, sent only after the durable write. */
  ack(): WebhookReply;
  /** The answer that makes the provider retry (used when storing failed). */
  retryLater(): WebhookReply;
}

export interface Provider {
  readonly name: string;
  /**
   * The provider's own limits, checked before any network call. Returns the offending
   * request field and the problem, or undefined when the request fits.
   */
  check?(request: ProviderSendRequest): { field: string; problem: string } | undefined;
  send(request: ProviderSendRequest, signal: AbortSignal): Promise<SendOutcome>;
  readonly webhook: ProviderWebhook;
  /** Releases timers and sockets at shutdown. */
  close?(): Promise<void>;
}

/** Thrown by ProviderWebhook.parse for malformed pushes. */
export class WebhookParseError extends Error {
  override readonly name = "WebhookParseError";
}
