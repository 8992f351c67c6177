import { describe, expect, it } from "vitest";
import type { ProviderSendRequest } from "../../../src/core/provider.js";
import { checkYtxRequest, toYtxDst } from "../../../src/providers/ytx/check.js";

const request = (overrides: Partial<ProviderSendRequest> = {}): ProviderSendRequest => ({
  callId: "c1",
  phoneNumber: "+8613911281234",
  code: "123456",
  playTimes: 3,
  ...overrides,
});

describe("ytx dst", () => {
  it.each([
    ["+8613911281234", "13911281234"],
    ["+8617012345678", "17012345678"],
    ["+861012345678", "01012345678"],
    ["+862112345678", "02112345678"],
    ["+8675512345678", "075512345678"],
  ])("sends %s as %s (no +86, landlines with their area code)", (e164, dst) => {
    expect(toYtxDst(e164)).toEqual({ dst });
  });
});

describe("ytx check", () => {
  it("accepts mobiles and landlines, codes up to 19 characters, 1-3 plays", () => {
    expect(checkYtxRequest(request())).toBeUndefined();
    expect(checkYtxRequest(request({ phoneNumber: "+861012345678", code: "1".repeat(19), playTimes: 1 }))).toBeUndefined();
    expect(checkYtxRequest(request({ code: "ab12" }))).toBeUndefined();
  });

  it.each([
    ["Hong Kong", "+85291234567", /mainland China numbers only \(\+86\)/],
    ["US", "+14155552671", /mainland China numbers only/],
    ["toll-free", "+868001234567", /mobile or a direct landline.*toll free/],
    ["shared-cost", "+864001234567", /mobile or a direct landline.*shared cost/],
  ])("refuses a %s number", (_name, phoneNumber, problem) => {
    const result = checkYtxRequest(request({ phoneNumber }));
    expect(result?.field).toBe("phone_number");
    expect(result?.problem).toMatch(problem);
  });

  it.each([
    ["20 characters", "1".repeat(20), /fewer than 20 characters, got 20/],
    ["punctuation", "12-34", /letters and digits only/],
  ])("refuses a code with %s", (_name, code, problem) => {
    expect(checkYtxRequest(request({ code }))).toEqual({ field: "code", problem: expect.stringMatching(problem) });
  });

  it.each([0, 4, 1.5])("refuses %s plays", (playTimes) => {
    expect(checkYtxRequest(request({ playTimes }))?.field).toBe("play_times");
  });
});
