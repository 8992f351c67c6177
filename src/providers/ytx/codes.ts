/**
 * ytx's raw codes and how they normalize.
 *
 * API statusCode (synchronous answer of CodeCallOut.wx). Every non-zero code is a refusal:
 * no call was placed.
 *
 * | code | text (ytx)         | FailureReason        | source                        |
 * |------|--------------------|----------------------|-------------------------------|
 * | 0    | 提交成功           | (accepted)           | seed                          |
 * | -1   | 号码无效           | INVALID_NUMBER       | third-party table, UNCONFIRMED |
 * | -2   | 缺少必要参数       | CONFIG_ERROR         | seed (异常示例)               |
 * | -3   | 无效action         | CONFIG_ERROR         | third-party table, UNCONFIRMED |
 * | -4   | 无效的JSON         | CONFIG_ERROR         | third-party table, UNCONFIRMED |
 * | -100 | 异常错误           | (ambiguous)          | third-party table, UNCONFIRMED |
 * | -101 | 参数不合法         | CONFIG_ERROR         | third-party table, UNCONFIRMED |
 * | -102 | 电话号码不合法     | INVALID_NUMBER       | third-party table, UNCONFIRMED |
 * | -104 | 请求频率过高       | RATE_LIMITED         | observed answer quoted in the same project, UNCONFIRMED |
 * | -200 | 无此用户           | AUTH_ERROR           | third-party table, UNCONFIRMED |
 * | -201 | 用户状态失效       | AUTH_ERROR           | third-party table, UNCONFIRMED |
 * | -202 | 包头验证信息错误   | AUTH_ERROR           | third-party table, UNCONFIRMED |
 * | -203 | AuthToken验证失败  | AUTH_ERROR           | third-party table, UNCONFIRMED |
 * | -204 | 账户余额不足       | INSUFFICIENT_BALANCE | third-party table, UNCONFIRMED |
 * | -205 | 应用验证失败       | CONFIG_ERROR         | seed (app id / environment / IP whitelist) |
 * | else | -                  | UNKNOWN              |                               |
 *
 * -205 is CONFIG_ERROR, not AUTH_ERROR: the seed's own list of its causes (应用验证失败原因)
 * is all configuration — an app id used against the wrong environment (a sandbox test app
 * on api.ytx.net or the reverse), the caller's IP missing from the app's whitelist, or an
 * app without the feature or not yet launched. The account's credentials are not in
 * question (wrong ones fail with -200..-203), and the fix is in the console, not a key.
 *
 * The seed itself documents only 0, -2 and -205. The rest come from the error table in a
 * public ytx integration (a Django project's YTX_ERROR_CODES); -104 is not in that table
 * but is an answer the same project recorded from ytx ({"statusCode":"-104","statusMsg":
 * "请求频率过高"}), ytx's only known rate-limit code.
 *
 * -100 (异常错误, "exception") is NOT a refusal: a generic server exception says nothing
 * about where ytx broke, possibly after handing the call to its switch, so the answer is
 * ambiguous (as Tencent's bare InternalError is); a retry elsewhere could ring twice.
 *
 * Status push: UNCONFIRMED. ytx documents neither the body nor the acknowledgement (the
 * callback URL is set per app in the console; the sandbox never pushes). The closest
 * evidence is a public integration of ytx's two-way call (DailbackCall), whose handler
 * reads a JSON status push {requestid, state: callout|alerting|answer|disconnect,
 * stateDesc, dsc (the number), timestamp} and a JSON CDR push {"cdr":[{requestid, ...}]}.
 * webhook.ts looks for a status under likely keys and maps only the words below, which are guesses:
 * English state words (callout / alerting / answer are ytx's own words in its two-way
 * call push, per the same third-party source) and plain Chinese outcomes. Numeric status
 * codes are deliberately NOT mapped: "0" might mean "completed" or merely "submitted",
 * and a wrong terminal state is worse than none. An unmapped push is recorded as an
 * ACCEPTED event (kept for audit, changes nothing) and logged, so a real push can be
 * captured and added here.
 */
import { CallState, FailureReason } from "../../core/model.js";

/** The API's success code. */
export const YTX_OK = "0";

export interface ApiCode {
  readonly text: string;
  readonly reason: FailureReason;
  /** The code does not prove that no call was placed: the send is ambiguous. */
  readonly ambiguous?: true;
}

export const YTX_API_CODES: Readonly<Record<string, ApiCode>> = {
  "-1": { text: "号码无效", reason: FailureReason.INVALID_NUMBER },
  "-2": { text: "缺少必要参数", reason: FailureReason.CONFIG_ERROR },
  "-3": { text: "无效action", reason: FailureReason.CONFIG_ERROR },
  "-4": { text: "无效的JSON", reason: FailureReason.CONFIG_ERROR },
  "-100": { text: "异常错误", reason: FailureReason.PROVIDER_ERROR, ambiguous: true },
  "-101": { text: "参数不合法", reason: FailureReason.CONFIG_ERROR },
  "-102": { text: "电话号码不合法", reason: FailureReason.INVALID_NUMBER },
  "-104": { text: "请求频率过高", reason: FailureReason.RATE_LIMITED },
  "-200": { text: "无此用户", reason: FailureReason.AUTH_ERROR },
  "-201": { text: "用户状态失效", reason: FailureReason.AUTH_ERROR },
  "-202": { text: "包头验证信息错误", reason: FailureReason.AUTH_ERROR },
  "-203": { text: "AuthToken验证失败", reason: FailureReason.AUTH_ERROR },
  "-204": { text: "账户余额不足", reason: FailureReason.INSUFFICIENT_BALANCE },
  "-205": { text: "应用验证失败", reason: FailureReason.CONFIG_ERROR },
};

/** True when a non-zero statusCode leaves open whether ytx placed the call. */
export function apiCodeIsAmbiguous(statusCode: string): boolean {
  return Object.hasOwn(YTX_API_CODES, statusCode) && YTX_API_CODES[statusCode]?.ambiguous === true;
}

/** Why ytx refused a call, from the API's non-zero statusCode. */
export function apiFailureReason(statusCode: string): FailureReason {
  return (Object.hasOwn(YTX_API_CODES, statusCode) ? YTX_API_CODES[statusCode]?.reason : undefined) ?? FailureReason.UNKNOWN;
}

export interface PushStatus {
  readonly state: CallState;
  readonly reason: FailureReason;
  /** A bare "failed": a later, precise push may refine the reason. */
  readonly provisional?: boolean;
}

const progress = (state: CallState): PushStatus => ({ state, reason: FailureReason.UNSPECIFIED });
const failed = (reason: FailureReason): PushStatus => ({ state: CallState.FAILED, reason });

const DIALING = progress(CallState.DIALING);
const RINGING = progress(CallState.RINGING);
const ANSWERED = progress(CallState.ANSWERED);
const COMPLETED = progress(CallState.COMPLETED);
export const GENERIC_FAILURE: PushStatus = { state: CallState.FAILED, reason: FailureReason.UNKNOWN, provisional: true };

/**
 * UNCONFIRMED guesses, keyed by the status word lower-cased with spaces, "_" and "-"
 * removed ("no_answer" and "No Answer" are both "noanswer").
 */
export const YTX_PUSH_WORDS: Readonly<Record<string, PushStatus>> = {
  callout: DIALING,
  dialing: DIALING,
  calling: DIALING,
  呼出: DIALING,
  alerting: RINGING,
  ringing: RINGING,
  振铃: RINGING,
  answer: ANSWERED,
  answered: ANSWERED,
  接听: ANSWERED,
  success: COMPLETED,
  succeeded: COMPLETED,
  successful: COMPLETED,
  completed: COMPLETED,
  成功: COMPLETED,
  busy: failed(FailureReason.BUSY),
  userbusy: failed(FailureReason.BUSY),
  用户忙: failed(FailureReason.BUSY),
  占线: failed(FailureReason.BUSY),
  noanswer: failed(FailureReason.NO_ANSWER),
  未接听: failed(FailureReason.NO_ANSWER),
  无人接听: failed(FailureReason.NO_ANSWER),
  无应答: failed(FailureReason.NO_ANSWER),
  rejected: failed(FailureReason.REJECTED),
  refused: failed(FailureReason.REJECTED),
  declined: failed(FailureReason.REJECTED),
  拒接: failed(FailureReason.REJECTED),
  poweroff: failed(FailureReason.POWERED_OFF),
  poweredoff: failed(FailureReason.POWERED_OFF),
  关机: failed(FailureReason.POWERED_OFF),
  invalid: failed(FailureReason.INVALID_NUMBER),
  invalidnumber: failed(FailureReason.INVALID_NUMBER),
  vacant: failed(FailureReason.INVALID_NUMBER),
  空号: failed(FailureReason.INVALID_NUMBER),
  unreachable: failed(FailureReason.UNREACHABLE),
  无法接通: failed(FailureReason.UNREACHABLE),
  不在服务区: failed(FailureReason.UNREACHABLE),
  suspended: failed(FailureReason.SUSPENDED),
  停机: failed(FailureReason.SUSPENDED),
  fail: GENERIC_FAILURE,
  failed: GENERIC_FAILURE,
  failure: GENERIC_FAILURE,
  失败: GENERIC_FAILURE,
};

/** The normalized status for one raw push status value, or undefined when it is not a known word. */
export function pushStatusFor(raw: string): PushStatus | undefined {
  const word = raw.trim().toLowerCase().replace(/[\s_-]+/g, "");
  return Object.hasOwn(YTX_PUSH_WORDS, word) ? YTX_PUSH_WORDS[word] : undefined;
}
