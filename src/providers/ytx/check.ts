/**
 * ytx's own limits (seed, 请求参数), checked before any network call. The core already
 * guarantees strict E.164, a 2-8 digit code and 1-3 plays; ytx adds that it calls one
 * mainland China "direct" landline or mobile (no +86 prefix, a landline with its area
 * code), a code under 20 letters or digits, at most 3 plays.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { ProviderSendRequest } from "../../core/provider.js";

export interface YtxProblem {
  readonly field: "phone_number" | "code" | "play_times";
  readonly problem: string;
}

export const YTX_MAX_PLAY_TIMES = 3;
/** "长度小于20位": strictly fewer than 20 characters. */
export const YTX_CODE_MAX_LENGTH = 19;

const DIALABLE_TYPES = new Set(["MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE"]);

/**
 * The `dst` ytx expects for an E.164 number: the national number with the trunk prefix
 * a landline needs ("+8613911281234" -> "13911281234", "+861012345678" -> "01012345678").
 * Returns a problem instead when ytx cannot call the number.
 */
export function toYtxDst(phoneNumber: string): { dst: string } | { problem: string } {
  const parsed = parsePhoneNumberFromString(phoneNumber);
  if (parsed === undefined || parsed.countryCallingCode !== "86") {
    return { problem: "ytx calls mainland China numbers only (+86)" };
  }
  const type = parsed.getType();
  if (type === undefined || !DIALABLE_TYPES.has(type)) {
    const kind = type === undefined ? "not recognised" : type.toLowerCase().replace(/_/g, " ");
    return { problem: `ytx calls only a mobile or a direct landline number (this number is ${kind})` };
  }
  // The national format carries the "0" trunk prefix of landlines (010 1234 5678).
  return { dst: parsed.formatNational().replace(/\D/g, "") };
}

/** The first limit the request breaks, or undefined. */
export function checkYtxRequest(request: ProviderSendRequest): YtxProblem | undefined {
  const dst = toYtxDst(request.phoneNumber);
  if ("problem" in dst) return { field: "phone_number", problem: dst.problem };
  if (request.code.length > YTX_CODE_MAX_LENGTH) {
    return { field: "code", problem: `ytx takes codes of fewer than 20 characters, got ${request.code.length}` };
  }
  if (!/^[A-Za-z0-9]+$/.test(request.code)) {
    return { field: "code", problem: "ytx takes codes of letters and digits only" };
  }
  if (!Number.isInteger(request.playTimes) || request.playTimes < 1 || request.playTimes > YTX_MAX_PLAY_TIMES) {
    return { field: "play_times", problem: `ytx plays the code 1 to ${YTX_MAX_PLAY_TIMES} times, got ${request.playTimes}` };
  }
  return undefined;
}
