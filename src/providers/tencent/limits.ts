/**
 * SendCodeVoice's own limits (doc: CodeMessage digits only, PlayTimes at most 3,
 * CalledNumber E.164 with "+"), checked before any network call so a request Tencent
 * would refuse never costs a round trip.
 */
import type { ProviderSendRequest } from "../../core/provider.js";

export const TENCENT_MAX_PLAY_TIMES = 3;

/** The offending field and problem, or undefined when Tencent would take the request. */
export function checkTencentLimits(request: ProviderSendRequest): { field: string; problem: string } | undefined {
  if (!/^\+[1-9][0-9]{1,14}$/.test(request.phoneNumber)) {
    return { field: "phone_number", problem: "tencent requires an E.164 number with a leading +" };
  }
  if (!/^[0-9]+$/.test(request.code)) {
    return { field: "code", problem: "tencent speaks digits only (CodeMessage)" };
  }
  if (!Number.isInteger(request.playTimes) || request.playTimes < 1 || request.playTimes > TENCENT_MAX_PLAY_TIMES) {
    return { field: "play_times", problem: `tencent plays the code 1 to ${TENCENT_MAX_PLAY_TIMES} times` };
  }
  return undefined;
}
