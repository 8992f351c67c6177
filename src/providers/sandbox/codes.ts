/**
 * The sandbox carrier's raw status codes and how they normalize. Codes are SIP-style
 * (what real carriers report underneath) so the raw providerCode in status events looks
 * like the real thing; where SIP has no response for a condition the sandbox uses its own
 * 7xx codes, a range SIP leaves unassigned. The synchronous API reuses the same space
 * (402, 429), the way many HTTP-style provider APIs do.
 *
 * | code | text                        | FailureReason        |
 * |------|-----------------------------|----------------------|
 * | 100  | Trying                      | (progress: dialing)  |
 * | 180  | Ringing                     | (progress: ringing)  |
 * | 200  | OK                          | (answered/completed) |
 * | 401  | Unauthorized                | AUTH_ERROR           |
 * | 402  | Insufficient balance        | INSUFFICIENT_BALANCE |
 * | 403  | Forbidden                   | BLOCKED              |
 * | 404  | Not Found                   | INVALID_NUMBER       |
 * | 429  | Too Many Requests           | RATE_LIMITED         |
 * | 480  | No Answer                   | NO_ANSWER            |
 * | 484  | Address Incomplete          | INVALID_NUMBER       |
 * | 486  | Busy Here                   | BUSY                 |
 * | 500  | Server Internal Error       | PROVIDER_ERROR       |
 * | 603  | Decline                     | REJECTED             |
 * | 701  | Subscriber powered off      | POWERED_OFF          |
 * | 702  | Subscriber unreachable      | UNREACHABLE          |
 * | 703  | Subscriber suspended        | SUSPENDED            |
 * | else | -                           | UNKNOWN              |
 */
import { FailureReason } from "../../core/model.js";

export interface RawStatus {
  readonly code: string;
  readonly text: string;
}

export const SANDBOX_CODES = {
  trying: { code: "100", text: "Trying" },
  ringing: { code: "180", text: "Ringing" },
  ok: { code: "200", text: "OK" },
  unauthorized: { code: "401", text: "Unauthorized" },
  insufficientBalance: { code: "402", text: "Insufficient balance" },
  forbidden: { code: "403", text: "Forbidden" },
  notFound: { code: "404", text: "Not Found" },
  tooManyRequests: { code: "429", text: "Too Many Requests" },
  noAnswer: { code: "480", text: "No Answer" },
  addressIncomplete: { code: "484", text: "Address Incomplete" },
  busy: { code: "486", text: "Busy Here" },
  serverError: { code: "500", text: "Server Internal Error" },
  decline: { code: "603", text: "Decline" },
  poweredOff: { code: "701", text: "Subscriber powered off" },
  unreachable: { code: "702", text: "Subscriber unreachable" },
  suspended: { code: "703", text: "Subscriber suspended" },
} as const satisfies Record<string, RawStatus>;

const FAILURE_BY_CODE: ReadonlyMap<string, FailureReason> = new Map([
  [SANDBOX_CODES.unauthorized.code, FailureReason.AUTH_ERROR],
  [SANDBOX_CODES.insufficientBalance.code, FailureReason.INSUFFICIENT_BALANCE],
  [SANDBOX_CODES.forbidden.code, FailureReason.BLOCKED],
  [SANDBOX_CODES.notFound.code, FailureReason.INVALID_NUMBER],
  [SANDBOX_CODES.tooManyRequests.code, FailureReason.RATE_LIMITED],
  [SANDBOX_CODES.noAnswer.code, FailureReason.NO_ANSWER],
  [SANDBOX_CODES.addressIncomplete.code, FailureReason.INVALID_NUMBER],
  [SANDBOX_CODES.busy.code, FailureReason.BUSY],
  [SANDBOX_CODES.serverError.code, FailureReason.PROVIDER_ERROR],
  [SANDBOX_CODES.decline.code, FailureReason.REJECTED],
  [SANDBOX_CODES.poweredOff.code, FailureReason.POWERED_OFF],
  [SANDBOX_CODES.unreachable.code, FailureReason.UNREACHABLE],
  [SANDBOX_CODES.suspended.code, FailureReason.SUSPENDED],
]);

/** Why a call failed, from the raw code of a failure (callback or API refusal). */
export function failureReasonForCode(code: string): FailureReason {
  return FAILURE_BY_CODE.get(code) ?? FailureReason.UNKNOWN;
}
