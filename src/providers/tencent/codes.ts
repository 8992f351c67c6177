/**
 * Every Tencent VMS code we know of, normalized. Three tables:
 *
 * 1. API errors (`Response.Error.Code` of SendCodeVoice): VMS-specific codes from the
 *    SendCodeVoice doc and the Go SDK's errors.go, plus the common API 3.0 codes. An
 *    error envelope means the action failed, so almost every code is a definite
 *    refusal (`rejected`). The exceptions are timeouts inside Tencent: the request got
 *    past the gateway and an upstream hop did not answer in time, so the call may
 *    already be on its way. Those are `ambiguous`, never retried on another provider:
 *      - `InternalError.AccessUpstreamTimeout`, `FailedOperation.AccessUpstreamTimeout`,
 *        `InternalError.SsoSendRecvFail` (internal channel timeout), and any other code
 *        whose name says Timeout;
 *      - a bare `InternalError` or an `InternalError.*` we do not know: nothing says
 *        where inside Tencent it broke.
 *    The known InternalError subcodes that fail before dispatch stay refusals:
 *    `UpstreamError` (the upstream answered with an error), `SigVerificationFail`,
 *    `RequestTimeException` (clock skew), `RestApiInterfaceNotExist`.
 *    Any other unknown code falls back on its family prefix, then to UNKNOWN.
 * 2. `voicecode_callback.result`: "0" answered, "1" not answered, "2" call error.
 * 3. `voice_failure_callback.failure_code` (语音推送回执错误码, doc 1128/37531), 1 to 20;
 *    14 is not in the doc and codes above 20 are unconfirmed, so both map to UNKNOWN.
 */
import { FailureReason } from "../../core/model.js";

/** How an API error code classifies a send. */
export type ApiErrorClass =
  | {
      readonly kind: "rejected";
      readonly reason: FailureReason;
      /** "number": a limit about the destination; routing must not try another provider. */
      readonly scope?: "number";
    }
  | { readonly kind: "ambiguous" };

const rejected = (reason: FailureReason): ApiErrorClass => ({ kind: "rejected", reason });
const AMBIGUOUS: ApiErrorClass = { kind: "ambiguous" };

const R = FailureReason;

/** Exact codes. Documented meanings in the comments where the name does not say it. */
export const API_ERROR_CODES: Readonly<Record<string, ApiErrorClass>> = {
  // SendCodeVoice's own codes.
  "FailedOperation.AccessUpstreamTimeout": AMBIGUOUS,
  "FailedOperation.ContainSensitiveWord": rejected(R.BLOCKED),
  "FailedOperation.FailResolvePacket": rejected(R.CONFIG_ERROR),
  "FailedOperation.InsufficientBalanceInVoicePackage": rejected(R.INSUFFICIENT_BALANCE),
  "FailedOperation.InvalidJsonParameters": rejected(R.CONFIG_ERROR),
  "FailedOperation.InvalidParameters": rejected(R.CONFIG_ERROR),
  "FailedOperation.JsonParseFail": rejected(R.CONFIG_ERROR),
  // 语音未知错误: refused with an error, nothing says a call went out.
  "FailedOperation.ParametersOtherError": rejected(R.PROVIDER_ERROR),
  // No display number bought, or its monthly fee unpaid: an account set-up problem.
  "FailedOperation.PhonenumberUnappliedOrExpired": rejected(R.CONFIG_ERROR),
  "FailedOperation.TemplateIncorrectOrUnapproved": rejected(R.CONFIG_ERROR),
  "InternalError.AccessUpstreamTimeout": AMBIGUOUS,
  // Our clock is over 10 minutes off: the same family as AuthFailure.SignatureExpire.
  "InternalError.RequestTimeException": rejected(R.AUTH_ERROR),
  "InternalError.RestApiInterfaceNotExist": rejected(R.CONFIG_ERROR),
  "InternalError.SigVerificationFail": rejected(R.AUTH_ERROR),
  "InternalError.SsoSendRecvFail": AMBIGUOUS,
  "InternalError.UpstreamError": rejected(R.PROVIDER_ERROR),
  "InvalidParameterValue.CalledNumberVerifyFail": rejected(R.INVALID_NUMBER),
  "InvalidParameterValue.ContentLengthLimit": rejected(R.CONFIG_ERROR),
  "InvalidParameterValue.SdkAppidNotExist": rejected(R.CONFIG_ERROR),
  // The frequency policy for a called number (the doc offers exempt test numbers): another
  // provider must not be used to get around it.
  "LimitExceeded.DeliveryFrequencyLimit": { kind: "rejected", reason: R.RATE_LIMITED, scope: "number" },
  "UnauthorizedOperation.SdkAppidIsDisabled": rejected(R.CONFIG_ERROR),
  "UnauthorizedOperation.ServiceSuspendDueToArrears": rejected(R.INSUFFICIENT_BALANCE),
  "UnauthorizedOperation.VoiceSdkAppidVerifyFail": rejected(R.AUTH_ERROR),
  UnsupportedOperation: rejected(R.CONFIG_ERROR),
  // Common API 3.0 codes.
  "AuthFailure.InvalidAuthorization": rejected(R.AUTH_ERROR),
  "AuthFailure.InvalidSecretId": rejected(R.AUTH_ERROR),
  "AuthFailure.MFAFailure": rejected(R.AUTH_ERROR),
  "AuthFailure.SecretIdNotFound": rejected(R.AUTH_ERROR),
  "AuthFailure.SignatureExpire": rejected(R.AUTH_ERROR),
  "AuthFailure.SignatureFailure": rejected(R.AUTH_ERROR),
  "AuthFailure.TokenFailure": rejected(R.AUTH_ERROR),
  "AuthFailure.UnauthorizedOperation": rejected(R.AUTH_ERROR),
  ActionOffline: rejected(R.CONFIG_ERROR),
  // We never send DryRun; if it happens, nothing was placed.
  DryRunOperation: rejected(R.PROVIDER_ERROR),
  FailedOperation: rejected(R.PROVIDER_ERROR),
  InternalError: AMBIGUOUS,
  InvalidAction: rejected(R.CONFIG_ERROR),
  InvalidParameter: rejected(R.CONFIG_ERROR),
  InvalidParameterValue: rejected(R.CONFIG_ERROR),
  InvalidRequest: rejected(R.CONFIG_ERROR),
  IpInBlacklist: rejected(R.BLOCKED),
  IpNotInWhitelist: rejected(R.BLOCKED),
  LimitExceeded: rejected(R.RATE_LIMITED),
  MissingParameter: rejected(R.CONFIG_ERROR),
  NoSuchProduct: rejected(R.CONFIG_ERROR),
  NoSuchVersion: rejected(R.CONFIG_ERROR),
  RequestLimitExceeded: rejected(R.RATE_LIMITED),
  RequestSizeLimitExceeded: rejected(R.CONFIG_ERROR),
  ResourceInsufficient: rejected(R.PROVIDER_ERROR),
  ResourceNotFound: rejected(R.CONFIG_ERROR),
  ResourceUnavailable: rejected(R.PROVIDER_ERROR),
  // The gateway could not reach the service: the request went no further.
  ServiceUnavailable: rejected(R.PROVIDER_ERROR),
  UnauthorizedOperation: rejected(R.AUTH_ERROR),
  UnknownParameter: rejected(R.CONFIG_ERROR),
  UnsupportedProtocol: rejected(R.CONFIG_ERROR),
  UnsupportedRegion: rejected(R.CONFIG_ERROR),
};

/** Fallbacks for codes not listed above, by family (the part before the first dot). */
const API_ERROR_FAMILIES: Readonly<Record<string, ApiErrorClass>> = {
  AuthFailure: rejected(R.AUTH_ERROR),
  FailedOperation: rejected(R.PROVIDER_ERROR),
  InternalError: AMBIGUOUS,
  InvalidParameter: rejected(R.CONFIG_ERROR),
  InvalidParameterValue: rejected(R.CONFIG_ERROR),
  LimitExceeded: rejected(R.RATE_LIMITED),
  MissingParameter: rejected(R.CONFIG_ERROR),
  RequestLimitExceeded: rejected(R.RATE_LIMITED),
  ResourceNotFound: rejected(R.CONFIG_ERROR),
  UnauthorizedOperation: rejected(R.AUTH_ERROR),
  UnsupportedOperation: rejected(R.CONFIG_ERROR),
};

/** Classifies `Response.Error.Code`: a refusal with its reason, or ambiguous (may have called). */
export function classifyApiError(code: string): ApiErrorClass {
  const exact = own(API_ERROR_CODES, code);
  if (exact !== undefined) return exact;
  if (/timeout/i.test(code)) return AMBIGUOUS;
  const family = own(API_ERROR_FAMILIES, code.split(".")[0] ?? "");
  return family ?? rejected(R.UNKNOWN);
}

/**
 * Own entries only: the code comes off the wire, and a plain index would hand back
 * Object.prototype members for "constructor" or "toString" (a function, not a class).
 */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `voicecode_callback.result` values (strings on the wire). */
export const CALL_RESULTS = {
  answered: { code: "0", text: "用户正常接听 (answered)" },
  notAnswered: { code: "1", text: "用户未接听 (not answered)" },
  callError: { code: "2", text: "呼叫异常 (call error)" },
} as const;

export interface FailureCode {
  readonly reason: FailureReason;
  /** The doc's wording, used when a push carries no failure_reason text. */
  readonly text: string;
}

/** `voice_failure_callback.failure_code` (a number on the wire). */
export const FAILURE_CODES: Readonly<Record<number, FailureCode>> = {
  1: { reason: R.POWERED_OFF, text: "关机" },
  2: { reason: R.BUSY, text: "通话中" },
  3: { reason: R.UNREACHABLE, text: "不在服务区" },
  // The callee's own line is in arrears: its operator suspended it.
  4: { reason: R.SUSPENDED, text: "已欠费" },
  5: { reason: R.NO_ANSWER, text: "无人接听" },
  6: { reason: R.UNREACHABLE, text: "暂时无法接通" },
  7: { reason: R.SUSPENDED, text: "停机" },
  8: { reason: R.INVALID_NUMBER, text: "空号" },
  9: { reason: R.BUSY, text: "电路正忙" },
  10: { reason: R.BUSY, text: "用户正忙" },
  11: { reason: R.PROVIDER_ERROR, text: "其他原因" },
  12: { reason: R.BLOCKED, text: "呼叫受限" },
  13: { reason: R.SUSPENDED, text: "已暂停服务" },
  15: { reason: R.INVALID_NUMBER, text: "号码不存在" },
  // The callee has a missed-call notification service: the call never reached the phone.
  16: { reason: R.UNREACHABLE, text: "来电提醒" },
  17: { reason: R.INVALID_NUMBER, text: "号码已过期" },
  18: { reason: R.UNREACHABLE, text: "网络忙" },
  19: { reason: R.SUSPENDED, text: "未开通语音通话功能" },
  20: { reason: R.NO_ANSWER, text: "无应答" },
};

/** The precise reason of a failure push; UNKNOWN for a code the doc does not list. */
export function failureForCode(code: number): FailureCode {
  return FAILURE_CODES[code] ?? { reason: R.UNKNOWN, text: "未知原因 (unknown failure code)" };
}
