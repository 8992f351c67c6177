/**
 * One push through a provider's parser, with every way it can end classified, so the
 * ingress answers (and counts) each one: events to store, a malformed push (400: the
 * sender's fault, a retry cannot help), or a parser that broke (500: our fault).
 */
import { type InboundEvent, type ProviderWebhook, WebhookParseError, type WebhookRequest } from "../core/provider.js";
import { MAX_PUSH_NESTING, nestsDeeperThan } from "./nesting-depth.js";

export type ParsedPush =
  | { readonly kind: "events"; readonly events: readonly InboundEvent[] }
  | { readonly kind: "malformed"; readonly reason: string }
  /** The parser threw something other than a WebhookParseError: a bug, not bad input. */
  | { readonly kind: "parser-error"; readonly error: unknown };

export interface ParsePushOptions {
  /** Deepest array/object nesting let through to the parser. Default MAX_PUSH_NESTING. */
  readonly maxNesting?: number;
}

/** Runs `webhook.parse` on a push; never throws. */
export function parsePush(webhook: ProviderWebhook, request: WebhookRequest, options: ParsePushOptions = {}): ParsedPush {
  const maxNesting = options.maxNesting ?? MAX_PUSH_NESTING;
  if (nestsDeeperThan(request.body, maxNesting)) {
    return { kind: "malformed", reason: `body nested deeper than ${maxNesting} levels` };
  }
  try {
    return { kind: "events", events: webhook.parse(request) };
  } catch (error) {
    if (error instanceof WebhookParseError) return { kind: "malformed", reason: error.message };
    return { kind: "parser-error", error };
  }
}
