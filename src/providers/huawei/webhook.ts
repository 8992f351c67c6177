/**
 * Our side of Huawei's pushes. One URL takes both kinds (status and CDR): the body's
 * eventType tells them apart. Huawei counts a push as delivered only on HTTP 200; it
 * re-pushes an unacknowledged CDR up to six times an hour apart but never retries a
 * status push, so retryLater() only brings CDRs back.
 *
 * Huawei also signs pushes (X-AKSK over the push URL) in a way its docs leave ambiguous;
 * it is not checked: the secret token in our webhook path authenticates the push.
 */
import type { InboundEvent, ProviderWebhook, WebhookReply, WebhookRequest } from "../../core/provider.js";
import { WebhookParseError } from "../../core/provider.js";
import { feeEvent, statusEvent } from "./normalize.js";
import { type Redactor, createRedactor } from "./redact.js";
import { huaweiPushSchema } from "./wire.js";

const JSON_HEADERS = { "content-type": "application/json;charset=UTF-8" } as const;

/** Huawei reads only the status; the body mirrors its own API's success answer. */
export const HUAWEI_ACK: WebhookReply = {
  status: 200,
  headers: JSON_HEADERS,
  body: '{"resultcode":"0","resultdesc":"Success"}',
};

export const HUAWEI_RETRY_LATER: WebhookReply = {
  status: 500,
  headers: JSON_HEADERS,
  body: '{"resultcode":"1","resultdesc":"Retry later"}',
};

export interface HuaweiWebhookOptions {
  /** Masks Huawei's texts before they are kept. Default: phone numbers only. */
  readonly redact?: Redactor;
}

export function createHuaweiWebhook(options: HuaweiWebhookOptions = {}): ProviderWebhook {
  const redact = options.redact ?? createRedactor({});
  return {
    parse: (request) => parseHuaweiPush(request, redact),
    ack: () => HUAWEI_ACK,
    retryLater: () => HUAWEI_RETRY_LATER,
  };
}

/** Validates one push and normalizes it; a CDR push gives one event per record. */
export function parseHuaweiPush(request: WebhookRequest, redact: Redactor = createRedactor({})): readonly InboundEvent[] {
  if (request.method !== "POST") throw new WebhookParseError(`huawei pushes are POST, got ${request.method}`);
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    throw new WebhookParseError("huawei push body is not valid JSON");
  }
  const result = huaweiPushSchema.safeParse(json);
  if (!result.success) {
    // Paths and messages only: zod never echoes the values, which may hold phone numbers.
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw new WebhookParseError(`huawei push rejected: ${problems.join("; ")}`);
  }
  const push = result.data;
  switch (push.eventType) {
    case "collectInfo":
      return [];
    case "fee":
      return push.feeLst.map(feeEvent);
    default:
      return [statusEvent(push, redact)];
  }
}
