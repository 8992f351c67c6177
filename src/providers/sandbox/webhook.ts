/**
 * Our side of the sandbox carrier's callbacks: validate one push and normalize it. The
 * carrier retries anything but a 2xx, so ack() is sent only after the durable write.
 */
import type { CallDetails } from "../../core/model.js";
import type { InboundEvent, ProviderWebhook, WebhookReply, WebhookRequest } from "../../core/provider.js";
import { WebhookParseError } from "../../core/provider.js";
import { failureReasonForEvent, stateForEvent } from "./normalize.js";
import { type SandboxCallback, sandboxCallbackSchema } from "./wire.js";

const JSON_HEADERS = { "content-type": "application/json" } as const;

export function createSandboxWebhook(): ProviderWebhook {
  return {
    parse,
    ack: (): WebhookReply => ({ status: 200, headers: JSON_HEADERS, body: '{"code":0,"msg":"ok"}' }),
    retryLater: (): WebhookReply => ({ status: 503, headers: JSON_HEADERS, body: '{"code":1,"msg":"retry later"}' }),
  };
}

function parse(request: WebhookRequest): readonly InboundEvent[] {
  if (request.method !== "POST") throw new WebhookParseError(`sandbox callbacks are POST, got ${request.method}`);
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    throw new WebhookParseError("sandbox callback body is not valid JSON");
  }
  const result = sandboxCallbackSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw new WebhookParseError(`sandbox callback rejected: ${problems.join("; ")}`);
  }
  const push = result.data;
  return [
    {
      // The carrier sends each event once per call and retries it verbatim.
      dedupeKey: `${push.callId}:${push.event}`,
      providerCallId: push.callId,
      callId: push.userData === undefined || push.userData === "" ? undefined : push.userData,
      state: stateForEvent(push.event),
      failureReason: failureReasonForEvent(push.event, push.code),
      providerCode: push.code,
      providerText: push.text,
      occurredAtMs: Date.parse(push.timestamp),
      details: detailsOf(push),
    },
  ];
}

/** What a final push says beyond its state; undefined for progress pushes. */
function detailsOf(push: SandboxCallback): CallDetails | undefined {
  if (push.event !== "completed" && push.event !== "failed") return undefined;
  const details: { -readonly [K in keyof CallDetails]: CallDetails[K] } = { endedAtMs: Date.parse(push.timestamp) };
  if (push.pressedKey !== undefined && push.pressedKey !== "") details.pressedKey = push.pressedKey;
  if (push.durationSeconds !== undefined) details.durationSeconds = push.durationSeconds;
  if (push.answeredAt !== undefined) details.answeredAtMs = Date.parse(push.answeredAt);
  return details;
}
