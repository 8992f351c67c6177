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
import { LimitExceeded, type Store } from "../store/store.js";
import type { CallRoute } from "./attempts.js";
import type { Caller } from "./caller.js";
import { VoiceCodeError } from "./errors.js";
import { type LimitsConfig, checkDestination, limitError, limitRules } from "./limits.js";
import type { CoreMetrics } from "./metrics.js";
import type { CallRecord } from "./model.js";
import { maskPhone } from "./phone.js";
import { type PlaceDeps, type PlaceRequest, placeAttempts } from "./place-attempts.js";
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
  const { tenant } = caller;
  // --- verification hook (src/verify/): resolve the code to speak, the caller's or a
  // generated one; it stays in memory (and in the sealed fallback request) and reaches
  // only the provider requests. ---
  const verify = planVerification(request, deps.generateCode);
  const input = validateSend(verify?.generated === true ? { ...request, code: verify.code } : request);
  // --- end verification hook ---
  const denied = checkDestination(input.phoneNumber, deps.limits);
  if (denied !== undefined) throw refused(deps, tenant, denied);
  const placed: PlaceRequest = { phoneNumber: input.phoneNumber, code: input.code, playTimes: input.playTimes };
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
  const phoneMasked = maskPhone(input.phoneNumber);
  const log = deps.logger.child({ tenant, callId, phone: phoneMasked });
  const route = callRoute(plan, request.outcomeFallback, deps.now());
  let created: Awaited<ReturnType<Store["createCall"]>>;
  try {
    created = await createCall(deps, tenant, {
      callId,
      tenant,
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
      requestHash: requestFingerprint(
        deps.keyring,
        { ...input, code: verify?.fingerprintCode ?? input.code },
        plan.guarded ? `route:${plan.route}` : provider.name,
      ),
      nowMs,
      // Verification hook: the keyed hash, recorded in createCall's transaction.
      verification: verify === undefined ? undefined : newVerification(deps.keyring, verify, callId, nowMs),
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
        "idempotency_key: already used by a Send with different parameters",
        { field: "idempotency_key" },
      );
    }
    log.info({ existingCallId: created.call.callId }, "idempotent replay");
    return response(deps, created.call, true);
  }
  if (first.skipped.length > 0) log.info({ skipped: first.skipped }, "route: providers passed over");
  const call = await placeAttempts(deps, {
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
  return withExpiry(await response(deps, call, false), verify, nowMs);
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

async function response(deps: SendDeps, call: CallRecord, replay: boolean): Promise<SendResponse> {
  const events = await deps.store.listEvents({ callId: call.callId }, 0, Number.MAX_SAFE_INTEGER);
  return create(SendResponseSchema, {
    callId: call.callId,
    provider: call.provider,
    providerCallId: call.providerCallId,
    state: call.state,
    failureReason: call.failureReason,
    idempotentReplay: replay,
    attempts: attemptsToProto(await deps.store.listAttempts(call.callId), events),
  });
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
