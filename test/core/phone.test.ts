import { describe, expect, it } from "vitest";
import { maskPhone, parseE164 } from "../../src/core/phone.js";

describe("phone", () => {
  it("masks all but the country code and last four digits", () => {
    expect(maskPhone("+8613711112222")).toBe("+86*******2222");
    expect(maskPhone("+14155550123")).toBe("+1******0123");
  });

  it("parses strict E.164 only", () => {
    expect(parseE164("+8613711112222")).toBe("+8613711112222");
    expect(parseE164("+86-137-1111-2222")).toBeUndefined();
    expect(parseE164("+8613711112222x1")).toBeUndefined();
  });
});
