import { describe, expect, it } from "vitest";
import type { ProviderSendRequest } from "../../../src/core/provider.js";
import { createKingsoftProvider } from "../../../src/providers/kingsoft/index.js";
import { mainlandMobile } from "../../../src/providers/kingsoft/limits.js";

const provider = createKingsoftProvider({
  endpoint: "http://127.0.0.1:9/",
  accessKey: "AK",
  secretKey: "SK",
  templateId: "100001",
});
const check = (overrides: Partial<ProviderSendRequest>) =>
  provider.check?.({ callId: "", phoneNumber: "+8613712345678", code: "123456", playTimes: 2, ...overrides });

describe("kingsoft check()", () => {
  it("accepts a mainland mobile, 4 and 8 digit codes, 1 and 2 plays", () => {
    expect(check({})).toBeUndefined();
    expect(check({ phoneNumber: "+8619912345678", code: "1234", playTimes: 1 })).toBeUndefined();
    expect(check({ code: "12345678" })).toBeUndefined();
  });

  it.each([
    ["+14155550123", /mainland China numbers \(\+86\)/],
    ["+85291234567", /mainland China numbers \(\+86\)/],
    ["+861012345678", /mobile numbers .* not landlines/],
    ["+8612712345678", /mobile numbers/],
    ["+86137123456789", /mobile numbers/],
  ])("refuses phone number %s", (phoneNumber, problem) => {
    expect(check({ phoneNumber })).toEqual({ field: "phone_number", problem: expect.stringMatching(problem) });
  });

  it.each(["12", "123"])("refuses the %s-digit code the core would allow", (code) => {
    expect(check({ code })).toEqual({ field: "code", problem: "kingsoft plays codes of 4 to 8 digits" });
  });

  it("refuses 3 plays", () => {
    expect(check({ playTimes: 3 })).toEqual({ field: "play_times", problem: "kingsoft plays a code 1 to 2 times" });
  });

  it("turns the E.164 number into the 11-digit national one", () => {
    expect(mainlandMobile("+8613712345678")).toBe("13712345678");
    expect(mainlandMobile("8613712345678")).toBeUndefined();
  });
});
