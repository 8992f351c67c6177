/**
 * What the core needs from a provider adapter. Everything about one provider's wire
 * format lives in src/providers/<name>/; the core only sees these shapes.
 */
import { type CallDetails, type CallState, FailureReason } from "./model.js";

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
 * A template notification (Notify). The template parameters may carry personal data:
 * like a code, never log them, never store them.
 */
export interface ProviderNotifyRequest {
  /** Our call id: adapters put it in the provider's echo field where one exists. */
  readonly callId: string;
  /** E.164 with "+", already validated. */
  readonly phoneNumber: string;
  /** The logical template name; the adapter maps it to its own template id. */
  readonly templateName: string;
  /** Already validated by the core (sizes, printable text); the adapter checks its own limits. */
  readonly templateParams: Readonly<Record<string, string>>;
  /** IVR: the callee answers with a key press. */
  readonly collectKeyPress: boolean;
  /** Digits shown to the callee; undefined: the provider's configured or default one. */
  readonly displayNumber: string | undefined;
}

/** What a request asks a provider to do: the check and the call differ by kind. */
export type RequestKind = "verification" | "notification" | "ivr";

/** A problem a provider has with a request: the offending request field and what is wrong. */
export interface RequestProblem {
  readonly field: string;
  readonly problem: string;
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
  /** Key press, duration, answer and end times, when the push carries them. */
  readonly details?: CallDetails | undefined;
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
  check?(request: ProviderSendRequest): RequestProblem | undefined;
  send(request: ProviderSendRequest, signal: AbortSignal): Promise<SendOutcome>;
  /**
   * Capability marker: the notification kinds `notify` places. Absent or empty: the
   * provider places no notifications (Notify pinned to it is FAILED_PRECONDITION, and
   * routing passes it over).
   */
  readonly notifies?: readonly ("notification" | "ivr")[];
  /** The provider's limits for a notification, checked before any network call (as `check`). */
  checkNotify?(request: ProviderNotifyRequest): RequestProblem | undefined;
  /** Places a template notification (or IVR) call; outcomes as for `send`. */
  notify?(request: ProviderNotifyRequest, signal: AbortSignal): Promise<SendOutcome>;
  readonly webhook: ProviderWebhook;
  /** Releases timers and sockets at shutdown. */
  close?(): Promise<void>;
}

/** Thrown by ProviderWebhook.parse for malformed pushes. */
export class WebhookParseError extends Error {
  override readonly name = "WebhookParseError";
}

/** Whether `provider` places requests of `kind` (every provider places verification calls). */
export function supportsKind(provider: Provider, kind: RequestKind): boolean {
  if (kind === "verification") return true;
  return provider.notify !== undefined && (provider.notifies ?? []).includes(kind);
}

/** A request for a provider: a code (Send) or a template notification (Notify). */
export type AnyProviderRequest = ProviderSendRequest | ProviderNotifyRequest;

export function isNotifyRequest(request: AnyProviderRequest): request is ProviderNotifyRequest {
  return "templateName" in request;
}

export function requestKind(request: AnyProviderRequest): RequestKind {
  if (!isNotifyRequest(request)) return "verification";
  return request.collectKeyPress ? "ivr" : "notification";
}

/**
 * The provider's objection to a request, before any network call: undefined when it can
 * take it. A provider without the capability is not asked here (see supportsKind).
 */
export function checkRequest(provider: Provider, request: AnyProviderRequest): RequestProblem | undefined {
  return isNotifyRequest(request) ? provider.checkNotify?.(request) : provider.check?.(request);
}

/** Places the request with the method its kind needs. */
export function placeRequest(provider: Provider, request: AnyProviderRequest, signal: AbortSignal): Promise<SendOutcome> {
  if (!isNotifyRequest(request)) return provider.send(request, signal);
  if (provider.notify === undefined) {
    // Routing never picks such a provider; a guard, not a path.
    return Promise.resolve({
      kind: "rejected",
      reason: FailureReason.CONFIG_ERROR,
      providerCode: "",
      providerText: `no call was placed: ${provider.name} places no notifications`,
    });
  }
  return provider.notify(request, signal);
}
