import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import {
  API_RESULT_CODES,
  HANGUP_CAUSES,
  Q850_CAUSES,
  apiFailureReason,
  hangupCause,
} from "../../../src/providers/huawei/codes.js";

const R = FailureReason;

/** providers.md 2.3 and 5.1 (plus 1010001 from Huawei's FAQ), every code. */
const API_EXPECTED: Record<string, FailureReason> = {
  "1010001": R.PROVIDER_ERROR,
  "1010002": R.CONFIG_ERROR,
  "1010023": R.CONFIG_ERROR,
  "1013001": R.RATE_LIMITED,
  "1013002": R.RATE_LIMITED,
  "1013003": R.RATE_LIMITED,
  "1013112": R.UNKNOWN,
  "1013113": R.UNKNOWN,
  "1013114": R.UNKNOWN,
  "1013115": R.UNKNOWN,
  "1013116": R.UNKNOWN,
  "1013117": R.UNKNOWN,
  "1013118": R.UNKNOWN,
  "1013120": R.CONFIG_ERROR,
  "1013121": R.RATE_LIMITED,
  "1020001": R.CONFIG_ERROR,
  "1020002": R.PROVIDER_ERROR,
  "1020003": R.CONFIG_ERROR,
  "1020150": R.AUTH_ERROR,
  "1020151": R.UNKNOWN,
  "1020165": R.RATE_LIMITED,
  "1023006": R.AUTH_ERROR,
  "1023007": R.AUTH_ERROR,
  "1023008": R.AUTH_ERROR,
  "1023009": R.AUTH_ERROR,
  "1023010": R.AUTH_ERROR,
  "1023011": R.AUTH_ERROR,
  "1023012": R.AUTH_ERROR,
  "1023033": R.AUTH_ERROR,
  "1023034": R.AUTH_ERROR,
  "1023035": R.AUTH_ERROR,
};

/** providers.md 2.4 hang-up causes and the Huawei column of 5.2, every code. */
const HANGUP_EXPECTED: Record<number, [CallState, FailureReason]> = {
  0: [CallState.COMPLETED, R.UNSPECIFIED],
  7001: [CallState.FAILED, R.RATE_LIMITED],
  7002: [CallState.FAILED, R.RATE_LIMITED],
  7003: [CallState.FAILED, R.RATE_LIMITED],
  7004: [CallState.FAILED, R.BLOCKED],
  7005: [CallState.FAILED, R.BLOCKED],
  7100: [CallState.FAILED, R.CONFIG_ERROR],
  7105: [CallState.FAILED, R.CONFIG_ERROR],
  7106: [CallState.FAILED, R.UNKNOWN],
  7107: [CallState.FAILED, R.PROVIDER_ERROR],
  7108: [CallState.FAILED, R.INSUFFICIENT_BALANCE],
  7109: [CallState.FAILED, R.PROVIDER_ERROR],
  8000: [CallState.FAILED, R.PROVIDER_ERROR],
  8001: [CallState.FAILED, R.UNREACHABLE],
  8002: [CallState.FAILED, R.PROVIDER_ERROR],
  8003: [CallState.FAILED, R.NO_ANSWER],
  8004: [CallState.FAILED, R.REJECTED],
  8005: [CallState.FAILED, R.PROVIDER_ERROR],
  8006: [CallState.FAILED, R.PROVIDER_ERROR],
  8007: [CallState.FAILED, R.PROVIDER_ERROR],
  8008: [CallState.FAILED, R.PROVIDER_ERROR],
  8009: [CallState.FAILED, R.UNKNOWN],
  8010: [CallState.COMPLETED, R.UNSPECIFIED],
  8012: [CallState.FAILED, R.PROVIDER_ERROR],
  8015: [CallState.FAILED, R.PROVIDER_ERROR],
  8017: [CallState.FAILED, R.UNKNOWN],
  8018: [CallState.FAILED, R.PROVIDER_ERROR],
  8020: [CallState.FAILED, R.PROVIDER_ERROR],
  8100: [CallState.FAILED, R.INVALID_NUMBER],
  8101: [CallState.FAILED, R.NO_ANSWER],
  8102: [CallState.FAILED, R.BUSY],
  8103: [CallState.FAILED, R.UNREACHABLE],
  8104: [CallState.FAILED, R.POWERED_OFF],
  8105: [CallState.FAILED, R.SUSPENDED],
  8106: [CallState.FAILED, R.INVALID_NUMBER],
  8107: [CallState.FAILED, R.NO_ANSWER],
  8108: [CallState.FAILED, R.BUSY],
  8109: [CallState.FAILED, R.UNREACHABLE],
  8110: [CallState.FAILED, R.POWERED_OFF],
  8111: [CallState.FAILED, R.SUSPENDED],
};

/** providers.md 2.5 Q.850 causes and the Q.850 entries of 5.2. */
const Q850_EXPECTED: Record<number, FailureReason> = {
  1: R.INVALID_NUMBER,
  16: R.UNKNOWN,
  17: R.BUSY,
  18: R.NO_ANSWER,
  19: R.NO_ANSWER,
  20: R.UNREACHABLE,
  21: R.REJECTED,
  22: R.INVALID_NUMBER,
  27: R.UNREACHABLE,
  28: R.INVALID_NUMBER,
  34: R.UNREACHABLE,
  38: R.UNREACHABLE,
  41: R.UNREACHABLE,
  42: R.UNREACHABLE,
};

describe("huawei code tables", () => {
  it("map every documented API result code, and only those", () => {
    const actual = Object.fromEntries([...API_RESULT_CODES].map(([code, info]) => [code, info.reason]));
    expect(actual).toEqual(API_EXPECTED);
    for (const info of API_RESULT_CODES.values()) expect(info.text.length).toBeGreaterThan(0);
  });

  it("read 1010002 as a bad number only when it names calleeNbr", () => {
    expect(apiFailureReason("1010002", "Invalid request. The calleeNbr is invalid.")).toBe(R.INVALID_NUMBER);
    expect(apiFailureReason("1010002", "Invalid request. The preTone is invalid.")).toBe(R.CONFIG_ERROR);
    expect(apiFailureReason("1013001", "calleeNbr")).toBe(R.RATE_LIMITED);
    expect(apiFailureReason("1234567", "")).toBe(R.UNKNOWN);
  });

  it("map every documented hang-up cause", () => {
    const actual = Object.fromEntries([...HANGUP_CAUSES].map(([code, c]) => [code, [c.state, c.reason]]));
    expect(actual).toEqual(HANGUP_EXPECTED);
  });

  it("fail an undocumented hang-up cause as UNKNOWN", () => {
    expect(hangupCause(8999)).toMatchObject({ state: CallState.FAILED, reason: R.UNKNOWN, text: expect.stringContaining("8999") });
  });

  it("map every documented Q.850 cause", () => {
    for (const [code, reason] of Object.entries(Q850_EXPECTED)) {
      expect([code, Q850_CAUSES.get(Number(code))?.reason]).toEqual([code, reason]);
    }
  });
});
