import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ulid } from "./ulid.js";
import {
  OutcomeFallback,
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import type { Bus } from "../bus/bus.js";
import type { RoutePlan, Router } from "../routing/router.js";
import type { Keyring } from "../secrets/keyring.js";
import { LimitExceeded, type NewCall, type Store } from "../store/store.js";
import type { CallRoute } from "./attempts.js";
import type { Caller } from "./caller.js";
import { VoiceCodeError } from "./errors.js";
import { type LimitsConfig, checkDestination, limitError, limitRules } from "./limits.js";
import type { CoreMetrics } from "./metrics.js";
import type { AttemptRecord, CallKind, CallRecord } from "./model.js";
import { maskPhone } from "./phone.js";
import { type PlaceDeps, type PlaceNotifyRequest, type PlaceRequest, placeAttempts } from "./place-attempts.js";
import { attemptsToProto } from "./to-proto.js";
import { type ValidSend, validateSend } from "./validate-send.js";
import type { CodeGenerator } from "../verify/code.js";
import { newVerification, planVerification, withExpiry } from "../verify/plan.js";

export interface SendDeps extends PlaceDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly router: Router;
  readonly keyring: Keyring;
  readonly logger: Logger;
  readonly metrics: CoreMetrics;
  readonly now: () => number;
  readonly newCallId: () => string;
  readonly limits: LimitsConfig;
  /** Draws generated verification codes (src/verify/code.ts). */
  readonly generateCode: CodeGenerator;
}

export const defaultCallId = (): string => ulid();

/**
 * Send: validate, apply the destination policy, plan the route, then record the call
 * (PENDING) and count it against the limits in one store transaction before any network
 * call (so nothing is lost and nothing over a limit is placed), and place attempts along
 * the route until one is accepted, refused for good, or ends ambiguous.
 */
export async function send(deps: SendDeps, request: SendRequest, caller: Caller): Promise<SendResponse> {
  // --- verification hook (src/verify/): resolve the code to speak, the caller's or a
  // generated one; it stays in memory (and in the sealed fallback request) and reaches
  // only the provider requests. ---
  const verify = planVerification(request, deps.generateCode);
  const input = validateSend(verify?.generated === true ? { ...request, code: verify.code } : request);
  // --- end verification hook ---
  const placed: PlaceRequest = { phoneNumber: input.phoneNumber, code: input.code, playTimes: input.playTimes };
  const started = await startCall(deps, caller, {
    kind: "verification",
    templateName: "",
    input,
    placed,
    outcomeFallback: request.outcomeFallback,
    fingerprint: (target) =>
      requestFingerprint(deps.keyring, { ...input, code: verify?.fingerprintCode ?? input.code }, target),
    // Verification hook: the keyed hash, recorded in createCall's transaction.
    verification: (callId, nowMs) => (verify === undefined ? undefined : newVerification(deps.keyring, verify, callId, nowMs)),
  });
  const response = create(SendResponseSchema, await responseFields(deps, started.call, started.replay, started.attempts));
  return started.replay ? response : withExpiry(response, verify, started.nowMs);
}

/** What one call (Send or Notify) needs beyond what the provider is asked to say. */
export interface CallStart {
  readonly kind: CallKind;
  readonly templateName: string;
  readonly input: {
    readonly phoneNumber: string;
    readonly countryCallingCode: string;
    readonly provider: string;
    readonly playTimes: number;
    readonly clientReference: string;
    readonly idempotencyKey: string;
    readonly metadata: Readonly<Record<string, string>>;
  };
  readonly placed: PlaceRequest | PlaceNotifyRequest;
  readonly outcomeFallback: OutcomeFallback;
  /** The request's keyed fingerprint, given the routing target it was sent to. */
  readonly fingerprint: (target: string) => string;
  /** Send's verification record for the new call, if it makes one. */
  readonly verification?: (callId: string, nowMs: number) => NewCall["verification"];
}

/**
 * The flow Send and Notify share: destination policy, route plan, the call recorded and
 * counted against the limits in one transaction, then attempts along the route.
 */
export async function startCall(
  deps: SendDeps,
  caller: Caller,
  start: CallStart,
): Promise<{
  readonly call: CallRecord;
  readonly replay: boolean;
  readonly nowMs: number;
  /** The call's attempts, when the store answered with them (undefined: responseFields reads them). */
  readonly attempts?: readonly AttemptRecord[] | undefined;
}> {
  const { tenant } = caller;
  const { input, placed } = start;
  const denied = checkDestination(input, deps.limits);
  if (denied !== undefined) throw refused(deps, caller, denied);
  const plan = deps.router.plan(input.provider, { callId: "", ...placed });
  const first = plan.guarded ? await deps.router.acquire(plan.providers) : { provider: plan.providers[0], skipped: [] };
  if (first.provider === undefined) {
    throw new VoiceCodeError(
      "UNAVAILABLE",
      `no provider of the route for ${plan.route} is available now (${first.skipped.map((s) => `${s.provider}: ${s.why}`).join(", ")}); retry later`,
    );
  }
  const provider = first.provider;

  const callId = deps.newCallId();
  const nowMs = deps.now();
  const phoneMasked = maskPhone(input.phoneNumber, input.countryCallingCode);
  const log = deps.logger.child({ ...caller.logBindings, tenant, callId, phone: phoneMasked, kind: start.kind });
  // A notification never falls back on its outcome: that would need its template
  // parameters kept until the call ends, and they are never stored.
  const route = callRoute(plan, start.kind === "verification" ? start.outcomeFallback : OutcomeFallback.DISABLED, deps.now());
  let created: Awaited<ReturnType<Store["createCall"]>>;
  try {
    created = await createCall(deps, caller, {
      callId,
      kind: start.kind,
      templateName: start.templateName,
      tenant,
      // The same counters as Send: a phone rings whatever it says, so the per-number
      // anti-abuse limits and the tenant's budget cover every kind of call.
      limits: limitRules(deps.limits, deps.keyring, tenant, input.phoneNumber),
      provider: provider.name,
      route,
      // Kept only while a fallback may need to say the code again; sealed, and cleared
      // when the call ends.
      sealedRequest:
        route?.fallback === undefined ? undefined : deps.keyring.seal("fallback-request", JSON.stringify(placed)),
      phoneMasked,
      playTimes: input.playTimes,
      clientReference: input.clientReference,
      metadata: input.metadata,
      idempotencyKey: input.idempotencyKey,
      requestHash: start.fingerprint(plan.guarded ? `route:${plan.route}` : provider.name),
      nowMs,
      verification: start.verification?.(callId, nowMs),
    });
  } catch (err) {
    if (plan.guarded) deps.router.release(provider.name);
    throw err;
  }
  if (!created.created) {
    if (plan.guarded) deps.router.release(provider.name);
    if (!created.sameRequest) {
      throw new VoiceCodeError(
        "ALREADY_EXISTS",
        "idempotency_key: already used by a request with different parameters",
        { field: "idempotency_key" },
      );
    }
    log.info({ existingCallId: created.call.callId }, "idempotent replay");
    return { call: created.call, replay: true, nowMs };
  }
  if (first.skipped.length > 0) log.info({ skipped: first.skipped }, "route: providers passed over");
  const placedCall = await placeAttempts(deps, {
    callId,
    tenant,
    attempt: 1,
    provider,
    candidates: plan.providers,
    tried: [provider.name],
    failover: !plan.pinned,
    request: placed,
    log,
  });
  return { call: placedCall.call, attempts: placedCall.attempts, replay: false, nowMs };
}

/** createCall, with a limit refusal turned into RESOURCE_EXHAUSTED (nothing was recorded). */
async function createCall(
  deps: SendDeps,
  caller: Caller,
  call: Parameters<Store["createCall"]>[0],
): ReturnType<Store["createCall"]> {
  try {
    return await deps.store.createCall(call);
  } catch (err) {
    if (err instanceof LimitExceeded) throw refused(deps, caller, limitError(err));
    throw err;
  }
}

function refused(deps: SendDeps, caller: Caller, err: VoiceCodeError): VoiceCodeError {
  const { tenant } = caller;
  const reason = err.detail?.reason ?? err.code;
  deps.metrics.sendRefused(tenant, reason);
  deps.logger.info({ ...caller.logBindings, tenant, reason, retryAfterMs: err.detail?.retryAfterMs }, "send refused");
  return err;
}

/** What routing decided, kept on the call when a later attempt may need it. */
function callRoute(plan: RoutePlan, choice: OutcomeFallback, nowMs: number): CallRoute | undefined {
  if (plan.pinned || !plan.guarded) return undefined;
  const providers = plan.providers.map((p) => p.name);
  const fallback =
    choice === OutcomeFallback.DISABLED
      ? undefined
      : (plan.fallback ?? (choice === OutcomeFallback.ENABLED ? plan.defaultFallback : undefined));
  if (fallback === undefined || providers.length < 2) return { providers };
  return {
    providers,
    fallback: { on: fallback.on, maxAttempts: fallback.maxAttempts, deadlineAtMs: nowMs + fallback.deadlineMs },
  };
}

/** The fields SendResponse and NotifyResponse share. */
export async function responseFields(
  deps: SendDeps,
  call: CallRecord,
  replay: boolean,
  attempts?: readonly AttemptRecord[],
) {
  // A fresh Send's earlier attempts were all refusals (failover), and its current one is
  // what the call record says: no need to read the events (about 8% of a Send's CPU). A
  // replay may come back long after, when earlier attempts were calls of their own.
  const events = replay ? await deps.store.listEvents({ callId: call.callId }, 0, Number.MAX_SAFE_INTEGER) : [];
  // The attempts as the answer's write left them, when the store returned them with it
  // (PostgreSQL: a read less per Send, on a connection of its own); else read them.
  const list = attempts ?? (await deps.store.listAttempts(call.callId));
  return {
    callId: call.callId,
    provider: call.provider,
    providerCallId: call.providerCallId,
    state: call.state,
    failureReason: call.failureReason,
    idempotentReplay: replay,
    attempts: attemptsToProto(list, events, replay ? undefined : call),
  };
}

/**
 * Fingerprint of a Send, to tell a genuine retry from a reused key. It covers the code
 * (a retry with another code is a different request), so it is keyed: an unkeyed hash
 * of a 4-digit code and a masked number is reversed by trying every value. The inner
 * SHA-256 is what rows stored before the key existed hold; migrations key those. A
 * routed Send is fingerprinted by its route, not by the provider routing chose, which
 * may change between a request and its retry.
 */
function requestFingerprint(keyring: Keyring, input: ValidSend, target: string): string {
  const metadata = Object.entries(input.metadata).sort(([a], [b]) => (a < b ? -1 : 1));
  const plain = createHash("sha256")
    .update(
      JSON.stringify([
        input.phoneNumber,
        input.code,
        input.playTimes,
        target,
        input.clientReference,
        metadata,
      ]),
    )
    .digest("hex");
  return keyring.hash("request-fingerprint", plain);
}
