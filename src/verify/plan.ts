/**
 * The verification part of a Send: which code is spoken (the caller's, or one generated
 * here) and what is kept for Check. The code lives only in memory between here and the
 * provider request; what the store receives is its keyed hash (code-hash.ts).
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { SendRequest, SendResponse } from "../../gen/voicecode/v1/voicecode_pb.js";
import { invalidArgument } from "../core/errors.js";
import type { Keyring } from "../secrets/keyring.js";
import type { NewVerification } from "../store/verifications.js";
import { codeHash } from "./code-hash.js";
import type { CodeGenerator } from "./code.js";

/** Bounds and defaults of a verification. */
export const VERIFY_LIMITS = {
  /** Generated codes; Kingsoft's 4-8 digits, the narrowest provider range, fits. */
  codeLength: { min: 4, max: 8, default: 6 },
  ttlSeconds: { min: 60, max: 3600, default: 600 },
  /** Checks one verification accepts, right or wrong. */
  attempts: 5,
  /**
   * Shortest caller code that may be checked: with 5 attempts a 2-digit code would be
   * guessed one time in twenty.
   */
  checkableCodeMin: 4,
} as const;

export interface VerificationPlan {
  /** The code to speak: generated, or the caller's. Never log or store it. */
  readonly code: string;
  readonly generated: boolean;
  readonly ttlMs: number;
  /**
   * What stands for the code in the request fingerprint (idempotent retries): a
   * generated code differs on every retry, so the generation parameters stand in for it.
   */
  readonly fingerprintCode: string;
}

/**
 * Undefined when the Send asks for no verification: today's behaviour, nothing about the
 * code stored. Throws INVALID_ARGUMENT naming the field for a contradictory request.
 */
export function planVerification(request: SendRequest, generate: CodeGenerator): VerificationPlan | undefined {
  const { codeLength, ttlSeconds } = VERIFY_LIMITS;
  if (!request.generateCode && request.codeLength !== 0) {
    throw invalidArgument("code_length", "only with generate_code");
  }
  if (!request.generateCode && !request.enableCheck) {
    if (request.codeTtlSeconds !== 0) throw invalidArgument("code_ttl_seconds", "only with generate_code or enable_check");
    return undefined;
  }
  const ttl = request.codeTtlSeconds === 0 ? ttlSeconds.default : request.codeTtlSeconds;
  if (ttl < ttlSeconds.min || ttl > ttlSeconds.max) {
    throw invalidArgument("code_ttl_seconds", `must be ${ttlSeconds.min} to ${ttlSeconds.max}`);
  }
  if (request.generateCode) {
    // Explicit rather than "empty code means generate": a caller who forgot the code
    // still hears "code: is required" instead of silently getting a code it never sees.
    if (request.code !== "") throw invalidArgument("code", "must be empty with generate_code");
    const length = request.codeLength === 0 ? codeLength.default : request.codeLength;
    if (length < codeLength.min || length > codeLength.max) {
      throw invalidArgument("code_length", `must be ${codeLength.min} to ${codeLength.max}`);
    }
    return { code: generate(length), generated: true, ttlMs: ttl * 1000, fingerprintCode: `generate:${length}:${ttl}` };
  }
  // enable_check: the caller's code, validated by validateSend like any other; only the
  // extra minimum is checked here.
  if (request.code !== "" && request.code.length < VERIFY_LIMITS.checkableCodeMin) {
    throw invalidArgument("code", `must be ${VERIFY_LIMITS.checkableCodeMin} to 8 digits with enable_check`);
  }
  return { code: request.code, generated: false, ttlMs: ttl * 1000, fingerprintCode: `${request.code}|check:${ttl}` };
}

/** What createCall stores: the keyed hash bound to the call id, its expiry, the budget. */
export function newVerification(
  keyring: Keyring,
  plan: VerificationPlan,
  callId: string,
  nowMs: number,
): NewVerification {
  return {
    codeHash: codeHash(keyring, callId, plan.code),
    expiresAtMs: nowMs + plan.ttlMs,
    attempts: VERIFY_LIMITS.attempts,
  };
}

/** Send's answer with code_expire_time, when it created a verification. */
export function withExpiry(response: SendResponse, plan: VerificationPlan | undefined, nowMs: number): SendResponse {
  if (plan === undefined) return response;
  response.codeExpireTime = timestampFromMs(nowMs + plan.ttlMs);
  return response;
}
