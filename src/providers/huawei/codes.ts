/**
 * Every Huawei Voice Call code we know and how it normalizes. Three tables:
 *
 * 1. API result codes (`resultcode` of callVerify; every non-zero one means no session
 *    was created, so no call was placed).
 * 2. Hang-up causes (`stateCode` of the `disconnect` status push).
 * 3. Call-failure causes in CDRs: Q.850 (`callOutUnaswRsn`) and SIP (`sipStatusCode`).
 *
 * Sources: support.huaweicloud.com rtc_05_0016 (result codes), rtc_05_0022_1 (hang-up
 * causes), the Q.850 table of the Voice Call docs; summarized in shared/providers.md 2.3,
 * 2.4, 2.5 and 5. Codes whose meaning Huawei does not document map to UNKNOWN.
 */
import { CallState, FailureReason } from "../../core/model.js";

export interface CodeInfo {
  readonly text: string;
  readonly reason: FailureReason;
}

export const SUCCESS_RESULT_CODE = "0";

const R = FailureReason;

/** callVerify `resultcode` (a string on the wire) → why no call was placed. */
export const API_RESULT_CODES: ReadonlyMap<string, CodeInfo> = new Map<string, CodeInfo>([
  ["1010001", { text: "Internal system error", reason: R.PROVIDER_ERROR }],
  // INVALID_NUMBER instead when the description names calleeNbr: see apiFailureReason.
  ["1010002", { text: "Invalid request (resultdesc names the parameter)", reason: R.CONFIG_ERROR }],
  ["1010023", { text: "Display number invalid", reason: R.CONFIG_ERROR }],
  ["1013001", { text: "Calls exceed the SP limit", reason: R.RATE_LIMITED }],
  ["1013002", { text: "Calls exceed the APP limit", reason: R.RATE_LIMITED }],
  ["1013003", { text: "Calls exceed the display-number limit", reason: R.RATE_LIMITED }],
  ...[1013112, 1013113, 1013114, 1013115, 1013116, 1013117, 1013118].map(
    (code): [string, CodeInfo] => [String(code), { text: "Call restricted (code added 2020-07, meaning undocumented)", reason: R.UNKNOWN }],
  ),
  ["1013120", { text: "IPv4 address missing", reason: R.CONFIG_ERROR }],
  ["1013121", { text: "Calls forbidden in this time window", reason: R.RATE_LIMITED }],
  ["1020001", { text: "Parameter error", reason: R.CONFIG_ERROR }],
  ["1020002", { text: "Internal error", reason: R.PROVIDER_ERROR }],
  ["1020003", { text: "Parameter error", reason: R.CONFIG_ERROR }],
  ["1020150", { text: "app_key error", reason: R.AUTH_ERROR }],
  ["1020151", { text: "Code added 2019-09, meaning undocumented", reason: R.UNKNOWN }],
  ["1020165", { text: "Concurrent call ports of the app_key exceeded", reason: R.RATE_LIMITED }],
  ["1023006", { text: "Authentication failed (Authorization, PasswordDigest, app_key or clock skew)", reason: R.AUTH_ERROR }],
  ["1023007", { text: "realm not contained in Authorization", reason: R.AUTH_ERROR }],
  ["1023008", { text: "profile not contained in Authorization", reason: R.AUTH_ERROR }],
  ["1023009", { text: "The value of realm in Authorization must be SDP", reason: R.AUTH_ERROR }],
  ["1023010", { text: "The value of profile in Authorization must be UsernameToken", reason: R.AUTH_ERROR }],
  ["1023011", { text: "The value of type in Authorization must be Appkey", reason: R.AUTH_ERROR }],
  ["1023012", { text: "type not contained in Authorization", reason: R.AUTH_ERROR }],
  ["1023033", { text: "X-AKSK header missing", reason: R.AUTH_ERROR }],
  ["1023034", { text: "Username not contained in X-AKSK", reason: R.AUTH_ERROR }],
  ["1023035", { text: "Nonce not contained in X-AKSK", reason: R.AUTH_ERROR }],
]);

/**
 * Why callVerify refused. 1010002 is a generic "invalid request" whose description names
 * the bad parameter: only a bad callee number is the caller's fault (INVALID_NUMBER);
 * any other parameter is ours or the console's (CONFIG_ERROR).
 */
export function apiFailureReason(resultCode: string, resultDesc: string): FailureReason {
  if (resultCode === "1010002" && /calleeNbr/i.test(resultDesc)) return R.INVALID_NUMBER;
  return API_RESULT_CODES.get(resultCode)?.reason ?? R.UNKNOWN;
}

export interface HangupCause {
  readonly text: string;
  /** COMPLETED when the call was connected (the code was played), FAILED otherwise. */
  readonly state: CallState.COMPLETED | CallState.FAILED;
  /** UNSPECIFIED for COMPLETED. */
  readonly reason: FailureReason;
}

const completed = (text: string): HangupCause => ({ text, state: CallState.COMPLETED, reason: R.UNSPECIFIED });
const failed = (text: string, reason: FailureReason): HangupCause => ({ text, state: CallState.FAILED, reason });

/**
 * `disconnect` stateCode → outcome. A voice-code call has one leg, to the callee; which
 * side's codes (81xx callee, 8106-8111 "caller") the platform uses for that leg is not
 * documented, so both map to the same reasons.
 */
export const HANGUP_CAUSES: ReadonlyMap<number, HangupCause> = new Map<number, HangupCause>([
  [0, completed("Normal hang-up after the call was connected")],
  [7001, failed("Developer frequency control", R.RATE_LIMITED)],
  [7002, failed("App frequency control", R.RATE_LIMITED)],
  [7003, failed("Display-number frequency control", R.RATE_LIMITED)],
  [7004, failed("Callee number is blacklisted", R.BLOCKED)],
  [7005, failed("Caller number is blacklisted", R.BLOCKED)],
  [7100, failed("App not found", R.CONFIG_ERROR)],
  [7105, failed("Service type mismatch", R.CONFIG_ERROR)],
  [7106, failed("Platform refusal (meaning undocumented)", R.UNKNOWN)],
  [7107, failed("Security prompt failed", R.PROVIDER_ERROR)],
  [7108, failed("User frozen (account in arrears)", R.INSUFFICIENT_BALANCE)],
  [7109, failed("Insufficient voice ports", R.PROVIDER_ERROR)],
  [8000, failed("Internal error", R.PROVIDER_ERROR)],
  // A catch-all (frequency control, line fault, callee off / no answer / busy).
  [8001, failed("Call not connected", R.UNREACHABLE)],
  [8002, failed("Far end returned a failure announcement", R.PROVIDER_ERROR)],
  [8003, failed("Ringing timed out", R.NO_ANSWER)],
  [8004, failed("Callee hung up while ringing", R.REJECTED)],
  [8005, failed("TTS failed", R.PROVIDER_ERROR)],
  [8006, failed("Audio file missing", R.PROVIDER_ERROR)],
  [8007, failed("Playing the announcement failed", R.PROVIDER_ERROR)],
  [8008, failed("Collecting DTMF failed", R.PROVIDER_ERROR)],
  [8009, failed("Caller side hung up before the call was connected", R.UNKNOWN)],
  // Only a connected call runs into its maximum duration: the code was played.
  [8010, completed("Maximum call duration reached")],
  [8012, failed("Invalid app_key", R.PROVIDER_ERROR)],
  [8015, failed("Recording failed", R.PROVIDER_ERROR)],
  [8017, failed("Hang-up indicated by the user", R.UNKNOWN)],
  [8018, failed("No permission", R.PROVIDER_ERROR)],
  [8020, failed("Service exception", R.PROVIDER_ERROR)],
  [8100, failed("Callee number does not exist", R.INVALID_NUMBER)],
  [8101, failed("Callee did not answer", R.NO_ANSWER)],
  [8102, failed("Callee busy", R.BUSY)],
  [8103, failed("Callee temporarily unreachable", R.UNREACHABLE)],
  [8104, failed("Callee powered off", R.POWERED_OFF)],
  [8105, failed("Callee number suspended", R.SUSPENDED)],
  [8106, failed("Caller-side number does not exist", R.INVALID_NUMBER)],
  [8107, failed("Caller side did not answer", R.NO_ANSWER)],
  [8108, failed("Caller side busy", R.BUSY)],
  [8109, failed("Caller side temporarily unreachable", R.UNREACHABLE)],
  [8110, failed("Caller side powered off", R.POWERED_OFF)],
  [8111, failed("Caller-side number suspended", R.SUSPENDED)],
]);

/** A stateCode missing from the table still ends the call: FAILED, reason UNKNOWN. */
export function hangupCause(stateCode: number): HangupCause {
  return HANGUP_CAUSES.get(stateCode) ?? failed(`Hang-up cause ${stateCode} (undocumented)`, R.UNKNOWN);
}

/** Q.850 cause values as CDRs carry them in `callOutUnaswRsn`. */
export const Q850_CAUSES: ReadonlyMap<number, CodeInfo> = new Map<number, CodeInfo>([
  [1, { text: "Unallocated number", reason: R.INVALID_NUMBER }],
  [2, { text: "No route to the transit network", reason: R.UNREACHABLE }],
  [3, { text: "No route to the destination", reason: R.UNREACHABLE }],
  [16, { text: "Normal call clearing", reason: R.UNKNOWN }],
  [17, { text: "User busy", reason: R.BUSY }],
  [18, { text: "No user responding", reason: R.NO_ANSWER }],
  [19, { text: "No answer from user (alerted)", reason: R.NO_ANSWER }],
  [20, { text: "Subscriber absent", reason: R.UNREACHABLE }],
  [21, { text: "Call rejected", reason: R.REJECTED }],
  [22, { text: "Number changed", reason: R.INVALID_NUMBER }],
  [27, { text: "Destination out of order", reason: R.UNREACHABLE }],
  [28, { text: "Invalid number format", reason: R.INVALID_NUMBER }],
  [31, { text: "Normal, unspecified", reason: R.UNKNOWN }],
  [34, { text: "No circuit available", reason: R.UNREACHABLE }],
  [38, { text: "Network out of order", reason: R.UNREACHABLE }],
  [41, { text: "Temporary failure", reason: R.UNREACHABLE }],
  [42, { text: "Switching equipment congestion", reason: R.UNREACHABLE }],
]);

/** SIP final responses as CDRs carry them in `sipStatusCode`, the fallback when Q.850 says nothing. */
export const SIP_STATUSES: ReadonlyMap<number, CodeInfo> = new Map<number, CodeInfo>([
  [403, { text: "Forbidden", reason: R.BLOCKED }],
  [404, { text: "Not Found", reason: R.INVALID_NUMBER }],
  [408, { text: "Request Timeout", reason: R.NO_ANSWER }],
  [480, { text: "Temporarily Unavailable", reason: R.UNREACHABLE }],
  [484, { text: "Address Incomplete", reason: R.INVALID_NUMBER }],
  [486, { text: "Busy Here", reason: R.BUSY }],
  [487, { text: "Request Terminated", reason: R.NO_ANSWER }],
  [503, { text: "Service Unavailable", reason: R.UNREACHABLE }],
  [600, { text: "Busy Everywhere", reason: R.BUSY }],
  [603, { text: "Decline", reason: R.REJECTED }],
]);
