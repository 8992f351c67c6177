import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonTooDeepError, parseJsonLossless } from "../../../src/providers/ytx/json.js";
import { formatBeijingTimestamp, parseBeijingTimestamp, parsePushTime } from "../../../src/providers/ytx/time.js";

describe("Beijing timestamps", () => {
  it("round-trips any second", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1) / 1000, max: Date.UTC(2099, 0, 1) / 1000 }), (s) => {
        expect(parseBeijingTimestamp(formatBeijingTimestamp(s * 1000))).toBe(s * 1000);
      }),
    );
  });

  it.each(["20250230120000", "20251301120000", "2025030112000", "2025-03-01T12:00", "abc"])("rejects %j", (text) => {
    expect(parseBeijingTimestamp(text)).toBeUndefined();
  });

  it.each([
    ["20250301160001", Date.UTC(2025, 2, 1, 8, 0, 1)],
    ["2025-03-01 16:00:01", Date.UTC(2025, 2, 1, 8, 0, 1)],
    ["2025-03-01T08:00:01Z", Date.UTC(2025, 2, 1, 8, 0, 1)],
    ["2025-03-01T16:00:01+08:00", Date.UTC(2025, 2, 1, 8, 0, 1)],
    [1740816001, 1740816001000],
    ["1740816001123", 1740816001123],
    ["3", undefined],
    ["yesterday", undefined],
    [null, undefined],
  ])("reads push time %j", (value, expected) => {
    expect(parsePushTime(value)).toBe(expected);
  });
});

describe("lossless JSON", () => {
  it("refuses nesting deeper than the bound without recursing, at any depth", () => {
    for (const depth of [65, 4113, 1_000_000]) {
      expect(() => parseJsonLossless("[".repeat(depth) + "]".repeat(depth))).toThrow(JsonTooDeepError);
    }
    expect(parseJsonLossless(`${"[".repeat(64)}1${"]".repeat(64)}`)).toBeDefined();
    expect(parseJsonLossless(JSON.stringify({ s: "[".repeat(1000) }))).toEqual({ s: "[".repeat(1000) });
  });

  it("keeps long integers as strings and leaves everything else as JSON.parse does", () => {
    expect(parseJsonLossless('{"id":20160100000002051234,"n":-12,"f":1.5e3,"s":"9999999999999999999","a":[1234567890123456]}')).toEqual({
      id: "20160100000002051234",
      n: -12,
      f: 1500,
      s: "9999999999999999999",
      a: ["1234567890123456"],
    });
  });

  it("agrees with JSON.parse on any JSON without long integers", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const plain = JSON.parse(text);
        const hasLong = /(?<![\d.eE])-?\d{16,}(?![\d.eE])/.test(text);
        if (!hasLong) expect(parseJsonLossless(text)).toEqual(plain);
      }),
    );
  });

  it("throws on invalid JSON", () => {
    expect(() => parseJsonLossless('{"a":')).toThrow(SyntaxError);
  });
});
