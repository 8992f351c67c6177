import { describe, expect, it } from "vitest";
import { createTencentProvider } from "../../../src/providers/tencent/index.js";

const provider = createTencentProvider({
  secretId: "AKIDEXAMPLE",
  secretKey: "SECRETEXAMPLE",
  sdkAppId: "1400006666",
  region: "ap-guangzhou",
  endpoint: "http://127.0.0.1:9",
});
const ok = { callId: "01JCALL", phoneNumber: "+8613711112222", code: "493817", playTimes: 2 };
const check = (overrides: object) => provider.check?.({ ...ok, ...overrides });

describe("tencent check()", () => {
  it("lets a request within SendCodeVoice's limits through", () => {
    expect(check({})).toBeUndefined();
    expect(check({ playTimes: 1 })).toBeUndefined();
    expect(check({ playTimes: 3, code: "12" })).toBeUndefined();
  });

  it.each([
    ["play_times", { playTimes: 4 }],
    ["play_times", { playTimes: 0 }],
    ["play_times", { playTimes: 1.5 }],
    ["code", { code: "12a4" }],
    ["code", { code: "" }],
    ["code", { code: "１２３４" }],
    ["phone_number", { phoneNumber: "8613711112222" }],
    ["phone_number", { phoneNumber: "+86 137 1111 2222" }],
  ])("refuses %s in %j with a problem that does not quote it", (field, overrides) => {
    const result = check(overrides);
    expect(result?.field).toBe(field);
    expect(result?.problem).toMatch(/tencent/);
    for (const value of Object.values(overrides)) {
      if (String(value).length > 1) expect(result?.problem).not.toContain(String(value));
    }
  });
});
