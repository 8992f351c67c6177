import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import {
  API_ERRORS,
  RECEIPT_CODES,
  apiErrorMeaning,
  receiptOutcome,
} from "../../../src/providers/kingsoft/codes.js";

// Transcribed from the doc's tables (API错误码, 状态回执错误码) independently of codes.ts.
const DOC_API_CODES = [
  "Unknow", "AccountVoiceServiceUnavailable", "InvalidAccountId", "InvalidMobile", "InvalidTplId",
  "InvalidTplParams", "InvalidVerifyCode", "TplContainUrl", "InvalidTplLen", "InvalidContentLen",
  "InvalidPlayTimes", "InvalidExtId", "SendVoiceFailed", "TrialTimesLimit", "EmptyVoiceChannel",
  "MobileFrequencyLimit", "SignatureNotMatch", "ServiceUnavailable", "InnerServiceUnavaliable",
  "NoSuchEntity", "FlowLimitExceeded", "MissingParameter", "InvalidTimestamp", "InvalidTimestampFormat",
  "ServiceTimeout",
  // Not in the table: the doc's own example of a failed call (请求结构 > 调用失败).
  "InvalidParameterValue",
];
const DOC_RECEIPT_CODES = [
  ...Array.from({ length: 22 }, (_, i) => `DH:${String(i).padStart(4, "0")}`),
  "DH:0023", "DH:0027", "DH:0028", "DH:0029", "DH:9999",
  "101", "102", "103", "104", "106", "108", "110", "9001", "9002", "1012", "2038", "5000", "5099", "5100",
  "5110", "5111", "5112", "5113", "5114", "5121", "5122", "5123", "5124", "5125", "5130", "5132", "5133",
  "5142", "5157", "5158", "5159", "5160", "5161", "5162", "5197", "5198", "5203", "5204", "5206", "5207",
  "5208", ...Array.from({ length: 22 }, (_, i) => String(5209 + i)), "5237", "5300", "5400",
  "402", "403", "404", "408", "480", "484", "486", "487", "500", "502", "503", "504", "603",
  "100000001", "100000002", "100000003", "100000005", "100000006", "100000007", "0", "500001",
];

describe("kingsoft API error table", () => {
  it("covers exactly the doc's codes", () => {
    expect(Object.keys(API_ERRORS).sort()).toEqual([...DOC_API_CODES].sort());
  });

  it.each([
    ["InvalidMobile", 400, { kind: "rejected", reason: FailureReason.INVALID_NUMBER }],
    ["SignatureNotMatch", 403, { kind: "rejected", reason: FailureReason.AUTH_ERROR }],
    ["MobileFrequencyLimit", 400, { kind: "rejected", reason: FailureReason.RATE_LIMITED, scope: "number" }],
    ["FlowLimitExceeded", 409, { kind: "rejected", reason: FailureReason.RATE_LIMITED }],
    ["TrialTimesLimit", 400, { kind: "rejected", reason: FailureReason.INSUFFICIENT_BALANCE }],
    ["InvalidTimestamp", 400, { kind: "rejected", reason: FailureReason.AUTH_ERROR }],
    ["MissingParameter", 400, { kind: "rejected", reason: FailureReason.CONFIG_ERROR }],
    ["Unknow", 500, { kind: "ambiguous" }],
    ["ServiceTimeout", 500, { kind: "ambiguous" }],
    ["AccountVoiceServiceUnavailable", 500, { kind: "rejected", reason: FailureReason.PROVIDER_ERROR }],
    // A 500 the doc does not word as a refusal: the call may exist, so never retried elsewhere.
    ["InnerServiceUnavaliable", 500, { kind: "ambiguous" }],
    ["InvalidParameterValue", 400, { kind: "rejected", reason: FailureReason.CONFIG_ERROR }],
    // A 2xx says success; an error code nobody documented cannot overrule that.
    ["NotInTheDoc", 200, { kind: "ambiguous" }],
    ["NotInTheDoc", 400, { kind: "rejected", reason: FailureReason.UNKNOWN }],
    ["NotInTheDoc", 502, { kind: "ambiguous" }],
    ["toString", 400, { kind: "rejected", reason: FailureReason.UNKNOWN }],
  ])("%s (HTTP %i) means %o", (code, status, meaning) => {
    expect(apiErrorMeaning(code, status)).toEqual(meaning);
  });

  it("keeps the doc's HTTP status with every code", () => {
    expect(API_ERRORS.SignatureNotMatch?.httpStatus).toBe(403);
    expect(API_ERRORS.FlowLimitExceeded?.httpStatus).toBe(409);
    expect(API_ERRORS.NoSuchEntity?.httpStatus).toBe(404);
  });
});

describe("kingsoft receipt table", () => {
  it("covers exactly the doc's codes plus the SUCCESS ErrCode of its example", () => {
    expect(Object.keys(RECEIPT_CODES).sort()).toEqual([...DOC_RECEIPT_CODES, "SUCCESS"].sort());
  });

  it("gives every failure code a reason and only the codes of a connected call none", () => {
    for (const [code, entry] of Object.entries(RECEIPT_CODES)) {
      const connected = code === "SUCCESS" || code === "DH:0000" || code === "DH:0007";
      expect(entry.reason === FailureReason.UNSPECIFIED, code).toBe(connected);
    }
  });

  it("DH:0007 (callee hung up after connecting) completes the call: the code was being played", () => {
    expect(receiptOutcome("DH:0007", "呼叫接通后，被叫挂机")).toEqual({ state: CallState.COMPLETED, reason: FailureReason.UNSPECIFIED });
  });

  it.each([
    // The doc's own example pairs 480 with 用户拒接.
    ["480", "用户拒接", FailureReason.REJECTED],
    ["480", " 关机 ", FailureReason.POWERED_OFF],
    ["480", "空号", FailureReason.INVALID_NUMBER],
    ["480", "无人接听", FailureReason.NO_ANSWER],
    ["480", "正在通话", FailureReason.BUSY],
    ["480", "停机", FailureReason.SUSPENDED],
    ["480", "something else entirely", FailureReason.UNKNOWN],
    ["480", "", FailureReason.UNKNOWN],
    ["DH:9999", "用户拒接", FailureReason.REJECTED],
    ["DH:9999", "网络忙", FailureReason.PROVIDER_ERROR],
    ["500", "拒接", FailureReason.REJECTED],
    ["100000005", "无人接听", FailureReason.NO_ANSWER],
    // A code with one documented cause keeps it whatever the text says.
    ["DH:0001", "用户拒接", FailureReason.BUSY],
    ["5210", "空号", FailureReason.POWERED_OFF],
    // A text that two table rows give different reasons does not decide.
    ["480", "constructor", FailureReason.UNKNOWN],
  ])("a FAIL report with catch-all %s and ErrDesc %j fails as %s", (code, desc, reason) => {
    expect(receiptOutcome(code, desc)).toEqual({ state: CallState.FAILED, reason });
  });

  it.each([
    ["DH:0001", FailureReason.BUSY],
    ["DH:0002", FailureReason.INVALID_NUMBER],
    ["DH:0004", FailureReason.NO_ANSWER],
    ["DH:0010", FailureReason.BLOCKED],
    ["DH:0012", FailureReason.RATE_LIMITED],
    ["DH:0016", FailureReason.INSUFFICIENT_BALANCE],
    ["DH:0017", FailureReason.REJECTED],
    ["DH:0018", FailureReason.POWERED_OFF],
    ["DH:0019", FailureReason.SUSPENDED],
    ["DH:0020", FailureReason.UNREACHABLE],
    ["486", FailureReason.BUSY],
    // Ten causes over eight reasons: without a telling ErrDesc, nothing precise.
    ["480", FailureReason.UNKNOWN],
    ["603", FailureReason.REJECTED],
    ["5114", FailureReason.INSUFFICIENT_BALANCE],
    ["5210", FailureReason.POWERED_OFF],
    ["0", FailureReason.NO_ANSWER],
    ["500001", FailureReason.BLOCKED],
    ["100000006", FailureReason.PROVIDER_ERROR],
    ["5000", FailureReason.UNKNOWN],
    ["SUCCESS", FailureReason.UNKNOWN],
    ["DH:0000", FailureReason.UNKNOWN],
    ["DH:4242", FailureReason.UNKNOWN],
    ["constructor", FailureReason.UNKNOWN],
  ])("a FAIL report with %s fails as %s", (code, reason) => {
    expect(receiptOutcome(code, "")).toEqual({ state: CallState.FAILED, reason });
  });
});
