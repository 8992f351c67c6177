import { describe, expect, it } from "vitest";
import { createHealth } from "../../src/api/health.js";

describe("createHealth", () => {
  it("starts not serving and notifies only on change", () => {
    const health = createHealth();
    expect(health.serving).toBe(false);
    const seen: boolean[] = [];
    const unsubscribe = health.subscribe((s) => seen.push(s));
    health.setServing(true);
    health.setServing(true);
    health.setServing(false);
    unsubscribe();
    health.setServing(true);
    expect(seen).toEqual([true, false]);
    expect(health.serving).toBe(true);
  });
});
