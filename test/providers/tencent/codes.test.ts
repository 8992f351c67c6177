import { describe, expect, it } from "vitest";
import { FailureReason } from "../../../src/core/model.js";
import { API_ERROR_CODES, FAILURE_CODES, classifyApiError, failureForCode } from "../../../src/providers/tencent/codes.js";

const R = FailureReason;

// Written out from providers.md 1.4 / 5.1 and the SendCodeVoice doc, not from codes.ts.
const DOCUMENTED_API_ERRORS: [string, FailureReason | "ambiguous"][] = [
  ["FailedOperation.AccessUpstreamTimeout", "ambiguous"],
  ["FailedOperation.ContainSensitiveWord", R.BLOCKED],
  ["FailedOperation.FailResolvePacket", R.CONFIG_ERROR],
  ["FailedOperation.InsufficientBalanceInVoicePackage", R.INSUFFICIENT_BALANCE],
  ["FailedOperation.InvalidJsonParameters", R.CONFIG_ERROR],
  ["FailedOperation.InvalidParameters", R.CONFIG_ERROR],
  ["FailedOperation.JsonParseFail", R.CONFIG_ERROR],
  ["FailedOperation.ParametersOtherError", R.PROVIDER_ERROR],
  ["FailedOperation.PhonenumberUnappliedOrExpired", R.CONFIG_ERROR],
  ["FailedOperation.TemplateIncorrectOrUnapproved", R.CONFIG_ERROR],
  ["InternalError.AccessUpstreamTimeout", "ambiguous"],
  ["InternalError.RequestTimeException", R.AUTH_ERROR],
  ["InternalError.RestApiInterfaceNotExist", R.CONFIG_ERROR],
  ["InternalError.SigVerificationFail", R.AUTH_ERROR],
  ["InternalError.SsoSendRecvFail", "ambiguous"],
  ["InternalError.UpstreamError", R.PROVIDER_ERROR],
  ["InvalidParameterValue.CalledNumberVerifyFail", R.INVALID_NUMBER],
  ["InvalidParameterValue.ContentLengthLimit", R.CONFIG_ERROR],
  ["InvalidParameterValue.SdkAppidNotExist", R.CONFIG_ERROR],
  ["LimitExceeded.DeliveryFrequencyLimit", R.RATE_LIMITED],
  ["UnauthorizedOperation.SdkAppidIsDisabled", R.CONFIG_ERROR],
  ["UnauthorizedOperation.ServiceSuspendDueToArrears", R.INSUFFICIENT_BALANCE],
  ["UnauthorizedOperation.VoiceSdkAppidVerifyFail", R.AUTH_ERROR],
  ["UnsupportedOperation", R.CONFIG_ERROR],
  ["AuthFailure.InvalidAuthorization", R.AUTH_ERROR],
  ["AuthFailure.InvalidSecretId", R.AUTH_ERROR],
  ["AuthFailure.MFAFailure", R.AUTH_ERROR],
  ["AuthFailure.SecretIdNotFound", R.AUTH_ERROR],
  ["AuthFailure.SignatureExpire", R.AUTH_ERROR],
  ["AuthFailure.SignatureFailure", R.AUTH_ERROR],
  ["AuthFailure.TokenFailure", R.AUTH_ERROR],
  ["AuthFailure.UnauthorizedOperation", R.AUTH_ERROR],
  ["DryRunOperation", R.PROVIDER_ERROR],
  ["FailedOperation", R.PROVIDER_ERROR],
  ["InternalError", "ambiguous"],
  ["InvalidAction", R.CONFIG_ERROR],
  ["InvalidParameter", R.CONFIG_ERROR],
  ["InvalidParameterValue", R.CONFIG_ERROR],
  ["InvalidRequest", R.CONFIG_ERROR],
  ["IpInBlacklist", R.BLOCKED],
  ["IpNotInWhitelist", R.BLOCKED],
  ["LimitExceeded", R.RATE_LIMITED],
  ["MissingParameter", R.CONFIG_ERROR],
  ["NoSuchProduct", R.CONFIG_ERROR],
  ["NoSuchVersion", R.CONFIG_ERROR],
  ["RequestLimitExceeded", R.RATE_LIMITED],
];

// Per-number limits say so, so that routing never tries another provider for them.
const PER_NUMBER = new Set(["LimitExceeded.DeliveryFrequencyLimit"]);

const expected = (outcome: FailureReason | "ambiguous", code = "") =>
  outcome === "ambiguous"
    ? { kind: "ambiguous" }
    : { kind: "rejected", reason: outcome, ...(PER_NUMBER.has(code) ? { scope: "number" } : {}) };

describe("tencent API error codes", () => {
  it.each(DOCUMENTED_API_ERRORS)("%s", (code, outcome) => {
    expect(classifyApiError(code)).toEqual(expected(outcome, code));
  });

  it("lists no code the documented table does not pin", () => {
    const documented = new Set(DOCUMENTED_API_ERRORS.map(([code]) => code));
    const unpinned = Object.keys(API_ERROR_CODES).filter((code) => !documented.has(code));
    // Common codes beyond the truncated list in providers.md, each a deliberate choice.
    expect(unpinned.sort()).toEqual(
      [
        "ActionOffline",
        "RequestSizeLimitExceeded",
        "ResourceInsufficient",
        "ResourceNotFound",
        "ResourceUnavailable",
        "ServiceUnavailable",
        "UnauthorizedOperation",
        "UnknownParameter",
        "UnsupportedProtocol",
        "UnsupportedRegion",
      ].sort(),
    );
  });

  it.each([
    ["AuthFailure.SomethingNew", expected(R.AUTH_ERROR)],
    ["LimitExceeded.PhoneNumberDailyLimit", expected(R.RATE_LIMITED)],
    ["RequestLimitExceeded.UinLimitExceeded", expected(R.RATE_LIMITED)],
    ["InvalidParameterValue.Whatever", expected(R.CONFIG_ERROR)],
    ["FailedOperation.Unheard", expected(R.PROVIDER_ERROR)],
    ["UnauthorizedOperation.Other", expected(R.AUTH_ERROR)],
    ["InternalError.SomethingBroke", expected("ambiguous")],
    ["FailedOperation.DeliveryTimeout", expected("ambiguous")],
    ["TotallyNew.Code", expected(R.UNKNOWN)],
  ])("falls back for unlisted %s", (code, outcome) => {
    expect(classifyApiError(code)).toEqual(outcome);
  });

  it.each([
    ["constructor", expected(R.UNKNOWN)],
    ["toString", expected(R.UNKNOWN)],
    ["__proto__", expected(R.UNKNOWN)],
    ["hasOwnProperty.Whatever", expected(R.UNKNOWN)],
  ])("classifies %s, spelled like an Object.prototype member, as an unknown refusal", (code, outcome) => {
    // A plain table index returned the prototype's function, i.e. a refusal without a reason.
    expect(classifyApiError(code)).toEqual(outcome);
  });
});

// providers.md 5.2, Tencent column.
const DOCUMENTED_FAILURE_CODES: [number, FailureReason][] = [
  [1, R.POWERED_OFF],
  [2, R.BUSY],
  [3, R.UNREACHABLE],
  [4, R.SUSPENDED],
  [5, R.NO_ANSWER],
  [6, R.UNREACHABLE],
  [7, R.SUSPENDED],
  [8, R.INVALID_NUMBER],
  [9, R.BUSY],
  [10, R.BUSY],
  [11, R.PROVIDER_ERROR],
  [12, R.BLOCKED],
  [13, R.SUSPENDED],
  [15, R.INVALID_NUMBER],
  [16, R.UNREACHABLE],
  [17, R.INVALID_NUMBER],
  [18, R.UNREACHABLE],
  [19, R.SUSPENDED],
  [20, R.NO_ANSWER],
];

describe("tencent failure_code table", () => {
  it.each(DOCUMENTED_FAILURE_CODES)("failure_code %i", (code, reason) => {
    expect(failureForCode(code).reason).toBe(reason);
  });

  it("covers exactly the documented codes; 14 and codes above 20 are UNKNOWN", () => {
    expect(Object.keys(FAILURE_CODES).map(Number)).toEqual(DOCUMENTED_FAILURE_CODES.map(([c]) => c));
    for (const code of [0, 14, 21, 100]) expect(failureForCode(code).reason).toBe(R.UNKNOWN);
  });
});
