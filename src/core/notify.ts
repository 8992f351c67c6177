/**
 * Notify: a template notification (or IVR) call, placed exactly like Send (same store
 * record, sequence, watch, idempotency and limits) with kind "notification" or "ivr".
 * Only the template's logical name is kept; its parameters, which may be personal data,
 * reach the provider and nothing else (not the store, not the logs).
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type NotifyRequest,
  type NotifyResponse,
  NotifyResponseSchema,
  OutcomeFallback,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import type { Keyring } from "../secrets/keyring.js";
import type { Caller } from "./caller.js";
import type { PlaceNotifyRequest } from "./place-attempts.js";
import { type SendDeps, responseFields, startCall } from "./send.js";
import { type ValidNotify, validateNotify } from "./validate-notify.js";

/** Plays of a notification, as stored with the call (the providers' own default). */
const NOTIFY_PLAY_TIMES = 1;

export async function notify(deps: SendDeps, request: NotifyRequest, caller: Caller): Promise<NotifyResponse> {
  const input = validateNotify(request);
  const placed: PlaceNotifyRequest = {
    phoneNumber: input.phoneNumber,
    templateName: input.templateName,
    templateParams: input.templateParams,
    collectKeyPress: input.collectKeyPress,
    displayNumber: input.displayNumber,
  };
  const started = await startCall(deps, caller, {
    kind: input.collectKeyPress ? "ivr" : "notification",
    templateName: input.templateName,
    input: { ...input, playTimes: NOTIFY_PLAY_TIMES },
    placed,
    outcomeFallback: OutcomeFallback.DISABLED,
    fingerprint: (target) => notifyFingerprint(deps.keyring, input, target),
  });
  return create(NotifyResponseSchema, await responseFields(deps, started.call, started.replay, started.attempts));
}

/**
 * Fingerprint of a Notify, to tell a retry from a reused key. Keyed, like Send's, since
 * it covers the parameters; it starts with the kind, so a Send and a Notify never share
 * one (a key reused across the two is ALREADY_EXISTS).
 */
function notifyFingerprint(keyring: Keyring, input: ValidNotify, target: string): string {
  const sorted = (record: Readonly<Record<string, string>>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
  const plain = createHash("sha256")
    .update(
      JSON.stringify([
        input.collectKeyPress ? "ivr" : "notification",
        input.phoneNumber,
        input.templateName,
        sorted(input.templateParams),
        input.displayNumber ?? "",
        target,
        input.clientReference,
        sorted(input.metadata),
      ]),
    )
    .digest("hex");
  return keyring.hash("request-fingerprint", plain);
}
