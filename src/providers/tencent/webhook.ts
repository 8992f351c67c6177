/**
 * Our side of Tencent VMS callbacks. One console URL receives every event type, so a
 * push is dispatched on its single top-level key:
 *
 * - voicecode_callback, result "0": ANSWERED (at accept_time) then COMPLETED (at
 *   end_calltime), two events from one push, applied in order.
 * - voicecode_callback, result "1" / "2": FAILED NO_ANSWER / PROVIDER_ERROR, marked
 *   provisional: Tencent may also send voice_failure_callback with the precise reason,
 *   before or after this one, and that one must win.
 * - voice_failure_callback: FAILED with the reason of its failure_code (not provisional).
 * - voiceprompt_callback, voicekey_callback (voice notifications, which we never send):
 *   validated and acknowledged, no events.
 *
 * Callbacks carry Tencent's callid (= SendStatus.CallId) but no echo of our
 * SessionContext, so callId is undefined and the store matches on providerCallId.
 * Nothing signs the callbacks; the secret path token checked by the ingress does.
 */
import type { z } from "zod";
import { CallState, FailureReason } from "../../core/model.js";
import type { InboundEvent, ProviderWebhook, WebhookReply, WebhookRequest } from "../../core/provider.js";
import { WebhookParseError } from "../../core/provider.js";
import { CALL_RESULTS, failureForCode } from "./codes.js";
import { redactText } from "./redact.js";
import {
  CALLBACK_TYPES,
  type CallbackAck,
  type CallbackType,
  callResultSchema,
  voiceFailureSchema,
  voiceKeySchema,
} from "./wire.js";

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" } as const;

const ACK: CallbackAck = { result: 0, errmsg: "OK" };
const RETRY: CallbackAck = { result: 1, errmsg: "temporarily unable to store the callback, retry later" };

/** The webhook half of the Tencent adapter. */
export function createTencentWebhook(): ProviderWebhook {
  return {
    parse: parseTencentCallback,
    // The documented acknowledgement; anything else counts as a failed push.
    ack: (): WebhookReply => ({ status: 200, headers: JSON_HEADERS, body: JSON.stringify(ACK) }),
    retryLater: (): WebhookReply => ({ status: 503, headers: JSON_HEADERS, body: JSON.stringify(RETRY) }),
  };
}

/** Validates one Tencent push and normalizes it; throws WebhookParseError on a malformed one. */
export function parseTencentCallback(request: WebhookRequest): readonly InboundEvent[] {
  if (request.method !== "POST") throw new WebhookParseError(`tencent callbacks are POST, got ${request.method}`);
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    throw new WebhookParseError("tencent callback body is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new WebhookParseError("tencent callback body is not a JSON object");
  }
  const keys = Object.keys(json);
  const type = keys[0];
  if (keys.length !== 1 || type === undefined || !isCallbackType(type)) {
    throw new WebhookParseError(
      `tencent callback must have exactly one top-level key of ${CALLBACK_TYPES.join(", ")}; got ${keys.length} key(s)`,
    );
  }
  const payload: unknown = (json as Record<string, unknown>)[type];
  switch (type) {
    case "voicecode_callback":
      return callResultEvents(validate(type, callResultSchema, payload));
    case "voice_failure_callback":
      return [failureEvent(validate(type, voiceFailureSchema, payload))];
    case "voiceprompt_callback":
      validate(type, callResultSchema, payload);
      return [];
    case "voicekey_callback":
      validate(type, voiceKeySchema, payload);
      return [];
  }
}

function isCallbackType(key: string): key is CallbackType {
  return (CALLBACK_TYPES as readonly string[]).includes(key);
}

function validate<S extends z.ZodType>(type: CallbackType, schema: S, payload: unknown): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[type, ...i.path.map(String)].join(".")}: ${i.message}`);
  throw new WebhookParseError(`tencent callback rejected: ${problems.join("; ")}`);
}

type CallResult = z.output<typeof callResultSchema>;
type VoiceFailure = z.output<typeof voiceFailureSchema>;

function callResultEvents(push: CallResult): InboundEvent[] {
  // The same push retried carries the same callid and result, hence the same keys.
  const key = `${push.callid}:voicecode_callback:${push.result}`;
  const base = { providerCallId: push.callid, callId: undefined, providerCode: `result=${push.result}` };
  if (push.result === CALL_RESULTS.answered.code) {
    const providerText = CALL_RESULTS.answered.text;
    const none = FailureReason.UNSPECIFIED;
    return [
      { ...base, dedupeKey: `${key}:answered`, state: CallState.ANSWERED, failureReason: none, providerText, occurredAtMs: push.accept_time },
      { ...base, dedupeKey: `${key}:completed`, state: CallState.COMPLETED, failureReason: none, providerText, occurredAtMs: push.end_calltime },
    ];
  }
  const [reason, providerText] =
    push.result === CALL_RESULTS.notAnswered.code
      ? [FailureReason.NO_ANSWER, CALL_RESULTS.notAnswered.text]
      : push.result === CALL_RESULTS.callError.code
        ? [FailureReason.PROVIDER_ERROR, CALL_RESULTS.callError.text]
        : [FailureReason.UNKNOWN, "未知结果 (unknown result)"];
  return [
    {
      ...base,
      dedupeKey: key,
      state: CallState.FAILED,
      failureReason: reason,
      providerText,
      occurredAtMs: push.end_calltime ?? push.start_calltime,
      // A voice_failure_callback for the same call, in either order, has the precise reason.
      provisional: true,
    },
  ];
}

function failureEvent(push: VoiceFailure): InboundEvent {
  const known = failureForCode(push.failure_code);
  const text = push.failure_reason === undefined || push.failure_reason === "" ? known.text : push.failure_reason;
  return {
    dedupeKey: `${push.callid}:voice_failure_callback:${push.failure_code}`,
    providerCallId: push.callid,
    callId: undefined,
    state: CallState.FAILED,
    failureReason: known.reason,
    providerCode: `failure_code=${push.failure_code}`,
    providerText: redactText(text),
    // The failure callback carries no timestamp.
    occurredAtMs: undefined,
  };
}
