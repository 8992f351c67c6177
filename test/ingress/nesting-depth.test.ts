import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nestsDeeperThan } from "../../src/ingress/nesting-depth.js";

/** The nesting depth of a parsed value, computed the obvious (recursive) way. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe("nestsDeeperThan", () => {
  it("agrees with the parsed value's depth for any JSON, strings full of brackets included", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, max) => {
        const body = Buffer.from(JSON.stringify(value), "utf8");
        expect(nestsDeeperThan(body, max)).toBe(depthOf(value) > max);
      }),
      { numRuns: 500 },
    );
  });

  it("reads escaped quotes and backslashes inside strings as text", () => {
    const body = Buffer.from(JSON.stringify({ a: '\\"[[[[', b: "\\", c: "[{" }));
    expect(nestsDeeperThan(body, 1)).toBe(false);
    expect(nestsDeeperThan(body, 0)).toBe(true);
  });

  it("scans a million levels without recursing", () => {
    expect(nestsDeeperThan(Buffer.from("[".repeat(1_000_000)), 64)).toBe(true);
  });
});
