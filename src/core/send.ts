import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ulid } from "ulid";
import {
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import type { Bus } from "../bus/bus.js";
import type { Keyring } from "../secrets/keyring.js";
import { LimitExceeded, type Store } from "../store/store.js";
import type { Caller } from "./caller.js";
import { VoiceCodeError, invalidArgument } from "./errors.js";
import { type LimitsConfig, checkDestination, limitError, limitRules } from "./limits.js";
import { type CoreMetrics, countFinishedCalls, providerOutcomeLabel } from "./metrics.js";
import type { CallRecord } from "./model.js";
import { maskPhone } from "./phone.js";
import type { Provider, SendOutcome } from "./provider.js";
import type { ProviderRegistry } from "./providers.js";
import { type ValidSend, validateSend } from "./validate-send.js";
import { tracedProviderSend } from "../telemetry/traced.js";

export interface SendDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly providers: ProviderRegistry;
  readonly keyring: Keyring;
  readonly logger: Logger;
  readonly metrics: CoreMetrics;
  /** Upper bound for one provider request, in milliseconds. */
  readonly providerTimeoutMs: number;
  readonly now: () => number;
  readonly newCallId: () => string;
  readonly limits: LimitsConfig;
}

export const defaultCallId = (): string => ulid();

/**
 * Send: validate, apply the destination policy, record the call (PENDING) and count it
 * against the limits in one store transaction before any network call (so nothing is
 * lost and nothing over a limit is placed), ask the provider, record its answer, publish.
 */
export async function send(deps: SendDeps, request: SendRequest, caller: Caller): Promise<SendResponse> {
  const { tenant } = caller;
  const input = validateSend(request);
  const denied = checkDestination(input.phoneNumber, deps.limits);
  if (denied !== undefined) throw refused(deps, tenant, denied);
  const provider = deps.providers.resolve(input.provider);
  const problem = provider.check?.({
    callId: "",
    phoneNumber: input.phoneNumber,
    code: input.code,
    playTimes: input.playTimes,
  });
  if (problem !== undefined) throw invalidArgument(problem.field, problem.problem);

  const callId = deps.newCallId();
  const phoneMasked = maskPhone(input.phoneNumber);
  const log = deps.logger.child({ tenant, callId, provider: provider.name, phone: phoneMasked });
  const created = await createCall(deps, tenant, {
    callId,
    tenant,
    limits: limitRules(deps.limits, deps.keyring, tenant, input.phoneNumber),
    provider: provider.name,
    phoneMasked,
    playTimes: input.playTimes,
    clientReference: input.clientReference,
    metadata: input.metadata,
    idempotencyKey: input.idempotencyKey,
    requestHash: requestFingerprint(deps.keyring, input, provider.name),
    nowMs: deps.now(),
  });
  if (!created.created) {
    if (!created.sameRequest) {
      throw new VoiceCodeError(
        "ALREADY_EXISTS",
        "idempotency_key: already used by a Send with different parameters",
        { field: "idempotency_key" },
      );
    }
    log.info({ existingCallId: created.call.callId }, "idempotent replay");
    return response(created.call, true);
  }

  const asked = performance.now();
  const outcome = await ask(provider, input, callId, deps.providerTimeoutMs, log);
  deps.metrics.providerRequest(provider.name, providerOutcomeLabel(outcome), tenant, (performance.now() - asked) / 1000);
  if (outcome.kind === "ambiguous") {
    // The call may have been placed: keep it PENDING; the provider's callbacks carry our
    // call id and will move it on. Retrying elsewhere could ring the phone twice.
    log.warn({ detail: outcome.detail }, "provider outcome unknown; call left pending");
    const call = await deps.store.getCall(callId);
    if (call === undefined) throw new VoiceCodeError("INTERNAL", "internal error");
    return response(call, false);
  }
  const applied = await deps.store.recordSendResult(callId, outcome, deps.now());
  deps.bus.publish(applied.events);
  // A refusal ends the call here; an acceptance may apply parked pushes that end it.
  countFinishedCalls(deps.metrics, applied.events);
  if (outcome.kind === "rejected") {
    log.info({ providerCode: outcome.providerCode }, "provider refused the call");
  } else {
    log.info({ providerCallId: outcome.providerCallId }, "call accepted");
  }
  return response(applied.call, false);
}

/** createCall, with a limit refusal turned into RESOURCE_EXHAUSTED (nothing was recorded). */
async function createCall(
  deps: SendDeps,
  tenant: string,
  call: Parameters<Store["createCall"]>[0],
): ReturnType<Store["createCall"]> {
  try {
    return await deps.store.createCall(call);
  } catch (err) {
    if (err instanceof LimitExceeded) throw refused(deps, tenant, limitError(err));
    throw err;
  }
}

function refused(deps: SendDeps, tenant: string, err: VoiceCodeError): VoiceCodeError {
  const reason = err.detail?.reason ?? err.code;
  deps.metrics.sendRefused(tenant, reason);
  deps.logger.info({ tenant, reason, retryAfterMs: err.detail?.retryAfterMs }, "send refused");
  return err;
}

async function ask(
  provider: Provider,
  input: ValidSend,
  callId: string,
  timeoutMs: number,
  log: Logger,
): Promise<SendOutcome> {
  // Deliberately not the caller's signal: once we decided to place the call, a client
  // hanging up must not leave the record without the provider's answer.
  try {
    // A client span per provider request; no traceparent goes to the provider (docs/deployment.md).
    return await tracedProviderSend(provider, () =>
      provider.send(
        { callId, phoneNumber: input.phoneNumber, code: input.code, playTimes: input.playTimes },
        AbortSignal.timeout(timeoutMs),
      ),
    );
  } catch (err) {
    log.error({ err: errorSummary(err) }, "provider adapter threw");
    return { kind: "ambiguous", detail: "provider adapter failed" };
  }
}

function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: "unknown", message: String(err) };
}

function response(call: CallRecord, replay: boolean): SendResponse {
  return create(SendResponseSchema, {
    callId: call.callId,
    provider: call.provider,
    providerCallId: call.providerCallId,
    state: call.state,
    failureReason: call.failureReason,
    idempotentReplay: replay,
  });
}

/**
 * Fingerprint of a Send, to tell a genuine retry from a reused key. It covers the code
 * (a retry with another code is a different request), so it is keyed: an unkeyed hash
 * of a 4-digit code and a masked number is reversed by trying every value. The inner
 * SHA-256 is what rows stored before the key existed hold; migrations key those.
 */
function requestFingerprint(keyring: Keyring, input: ValidSend, provider: string): string {
  const metadata = Object.entries(input.metadata).sort(([a], [b]) => (a < b ? -1 : 1));
  const plain = createHash("sha256")
    .update(
      JSON.stringify([
        input.phoneNumber,
        input.code,
        input.playTimes,
        provider,
        input.clientReference,
        metadata,
      ]),
    )
    .digest("hex");
  return keyring.hash("request-fingerprint", plain);
}
