/**
 * What CallVerify accepts beyond the core's own validation (E.164, 2-8 digit code,
 * 1-3 plays): mainland China mobile numbers only, 4-8 digit codes, at most 2 plays.
 * Checked before any network call so the caller gets a clear INVALID_ARGUMENT rather
 * than a provider refusal.
 */
import type { ProviderSendRequest, RequestProblem } from "../../core/provider.js";

const MAINLAND_MOBILE = /^\+86(1[3-9]\d{9})$/;
const CODE = /^\d{4,8}$/;
export const MAX_PLAY_TIMES = 2;

/** The 11-digit national number Mobile takes, or undefined for anything else. */
export function mainlandMobile(phoneNumber: string): string | undefined {
  return MAINLAND_MOBILE.exec(phoneNumber)?.[1];
}

/** Every Kingsoft call (CallVerify, CallNotify, CallIvr) takes mainland mobiles only. */
export function checkMainlandMobile(phoneNumber: string): RequestProblem | undefined {
  if (!phoneNumber.startsWith("+86")) {
    return { field: "phone_number", problem: "kingsoft calls only mainland China numbers (+86)" };
  }
  if (mainlandMobile(phoneNumber) === undefined) {
    return {
      field: "phone_number",
      problem: "kingsoft calls only mainland China mobile numbers (+86 and 11 digits starting 13-19), not landlines",
    };
  }
  return undefined;
}

export function checkKingsoftRequest(request: ProviderSendRequest): RequestProblem | undefined {
  const phone = checkMainlandMobile(request.phoneNumber);
  if (phone !== undefined) return phone;
  if (!CODE.test(request.code)) {
    return { field: "code", problem: "kingsoft plays codes of 4 to 8 digits" };
  }
  if (!Number.isInteger(request.playTimes) || request.playTimes < 1 || request.playTimes > MAX_PLAY_TIMES) {
    return { field: "play_times", problem: `kingsoft plays a code 1 to ${MAX_PLAY_TIMES} times` };
  }
  return undefined;
}
