/**
 * callVerify's own limits, checked before any network call. The core has already
 * enforced E.164, 2-8 digits and 1-3 plays, which all fit; these checks keep the adapter
 * honest on its own (and name the Huawei rule when one is broken).
 */
import type { ProviderSendRequest } from "../../core/provider.js";

/** `times` bound from Huawei's sample code (0-9); the API reference gives none. */
export const MAX_PLAY_TIMES = 9;

export function checkHuaweiRequest(request: ProviderSendRequest): { field: string; problem: string } | undefined {
  if (!/^\+\d{3,30}$/.test(request.phoneNumber)) {
    return { field: "phone_number", problem: "Huawei takes the callee as + and 3 to 30 digits (calleeNbr, String(4-31))" };
  }
  if (!/^\d{2,8}$/.test(request.code)) {
    return { field: "code", problem: "Huawei plays 2 to 8 digits (verifyCode)" };
  }
  if (!Number.isInteger(request.playTimes) || request.playTimes < 1 || request.playTimes > MAX_PLAY_TIMES) {
    return { field: "play_times", problem: `Huawei plays the code 1 to ${MAX_PLAY_TIMES} times` };
  }
  return undefined;
}
