import { describe, expect, it } from "vitest";
import type { ProviderSendRequest } from "../../../src/core/provider.js";
import { createHuaweiProvider } from "../../../src/providers/huawei/index.js";

const provider = createHuaweiProvider({
  appKey: "k",
  appSecret: "s",
  endpoint: "http://127.0.0.1:9",
  displayNumber: "+862088880000",
  preTone: "pre.wav",
});

const request = (overrides: Partial<ProviderSendRequest>): ProviderSendRequest => ({
  callId: "",
  phoneNumber: "+8613800001234",
  code: "1234",
  playTimes: 1,
  ...overrides,
});

describe("huawei check()", () => {
  it.each([
    ["the shortest and longest codes", { code: "12" }],
    ["an 8-digit code", { code: "12345678" }],
    ["three plays", { playTimes: 3 }],
    ["nine plays (the sample's bound)", { playTimes: 9 }],
    ["a fixed-line callee", { phoneNumber: "+862088881234" }],
  ])("lets %s through", (_name, overrides) => {
    expect(provider.check?.(request(overrides))).toBeUndefined();
  });

  it.each([
    ["a one-digit code", { code: "1" }, "code"],
    ["a 9-digit code", { code: "123456789" }, "code"],
    ["letters in the code", { code: "12ab" }, "code"],
    ["zero plays", { playTimes: 0 }, "play_times"],
    ["ten plays", { playTimes: 10 }, "play_times"],
    ["a fractional play count", { playTimes: 1.5 }, "play_times"],
    ["a callee without +", { phoneNumber: "8613800001234" }, "phone_number"],
    ["a callee over 31 characters", { phoneNumber: `+${"1".repeat(31)}` }, "phone_number"],
  ])("refuses %s", (_name, overrides, field) => {
    const problem = provider.check?.(request(overrides));
    expect(problem?.field).toBe(field);
    expect(problem?.problem).toMatch(/Huawei/);
  });
});
