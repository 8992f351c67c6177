/**
 * Verifications (the Check RPC) as both engines store them: one row per call that asked
 * for one, holding only a keyed hash of the code (src/verify/code-hash.ts), its expiry and
 * an attempts budget. The decisions that do not need the database are made here, once,
 * so SQLite and PostgreSQL answer every Check the same way.
 */
import { CheckResult } from "../../gen/voicecode/v1/voicecode_pb.js";
import { VerificationState, type EventRecord } from "../core/model.js";
import type { Keyring } from "../secrets/keyring.js";
import { codeMatches } from "../verify/code-hash.js";

export { CheckResult };

/** What createCall stores beside the call when the Send asked for a verification. */
export interface NewVerification {
  /** Keyed hash of the code bound to the call id; never the code. */
  readonly codeHash: string;
  readonly expiresAtMs: number;
  /** Checks the verification accepts, wrong or right. */
  readonly attempts: number;
}

/** The stored `state` column (TEXT on both engines). */
export type VerificationRowState = "pending" | "approved" | "locked" | "expired";

export interface VerificationRow {
  readonly callId: string;
  readonly codeHash: string;
  readonly expiresAtMs: number;
  readonly attemptsLeft: number;
  readonly state: VerificationRowState;
  /** A newer verification of the same tenant and client_reference replaced it. */
  readonly superseded: boolean;
}

/** Always within one tenant: another tenant's verification is NOT_FOUND. */
export type CheckTarget =
  | { readonly tenant: string; readonly callId: string }
  | { readonly tenant: string; readonly clientReference: string };

export interface CheckVerificationRequest {
  readonly target: CheckTarget;
  readonly nowMs: number;
  /**
   * The code the caller typed. Compared inside the store's transaction, after an attempt
   * has been claimed, by `codeMatches` (src/verify/code-hash.ts: keyed hash, constant-time
   * comparison) under the store's keyring. Data, not a callback, so a store may run on a
   * thread of its own (src/store/sqlite/thread). Never written anywhere.
   */
  readonly code: string;
}

export interface CheckVerificationResult {
  readonly result: CheckResult;
  readonly attemptsLeft: number;
  /** Empty for NOT_FOUND. */
  readonly callId: string;
  /** The status event this Check recorded, if it changed the verification. */
  readonly event: EventRecord | undefined;
}

/**
 * What a Check answers without comparing anything, or "compare" when an attempt may be
 * claimed. "expire" means: record the expiry (once), then answer EXPIRED. The order
 * matters: an approved code stays ALREADY_APPROVED even after a re-send superseded it.
 */
export function precheck(
  row: VerificationRow,
  nowMs: number,
): CheckResult | "expire" | "compare" {
  if (row.state === "approved") return CheckResult.ALREADY_APPROVED;
  if (row.superseded || row.state === "expired") return CheckResult.EXPIRED;
  if (row.state === "locked" || row.attemptsLeft <= 0) return CheckResult.TOO_MANY_ATTEMPTS;
  if (nowMs >= row.expiresAtMs) return "expire";
  return "compare";
}

/** After a claimed attempt: compares the typed code; the row's new state and the event to record. */
export function afterCompare(
  keyring: Keyring,
  request: CheckVerificationRequest,
  claimed: { readonly callId: string; readonly codeHash: string; readonly attemptsLeft: number },
): { readonly state: VerificationRowState; readonly event: VerificationState; readonly result: CheckResult } {
  const matched = codeMatches(keyring, claimed.callId, request.code, claimed.codeHash);
  const { attemptsLeft } = claimed;
  if (matched) return { state: "approved", event: VerificationState.VERIFIED, result: CheckResult.APPROVED };
  if (attemptsLeft <= 0) return { state: "locked", event: VerificationState.LOCKED, result: CheckResult.WRONG_CODE };
  return { state: "pending", event: VerificationState.WRONG_CODE, result: CheckResult.WRONG_CODE };
}

/** provider_text of a verification event: what happened, for people reading GetCall. */
export const VERIFICATION_EVENT_TEXT: Readonly<Record<VerificationState, string>> = {
  [VerificationState.UNSPECIFIED]: "",
  [VerificationState.VERIFIED]: "verification approved",
  [VerificationState.WRONG_CODE]: "verification: wrong code",
  [VerificationState.LOCKED]: "verification locked: attempts spent",
  [VerificationState.EXPIRED]: "verification expired",
};

export function notFound(): CheckVerificationResult {
  return { result: CheckResult.NOT_FOUND, attemptsLeft: 0, callId: "", event: undefined };
}
