import { describe, expect, it } from "vitest";
import { createSignalPolicy } from "../src/shutdown-signals.js";

describe("shutdown signal policy", () => {
  it("drains on the first signal and exits at once on a later one", () => {
    let now = 1_000;
    const decide = createSignalPolicy({ now: () => now, repeatWindowMs: 1_000 });
    expect(decide("SIGTERM")).toBe("drain");
    now += 5_000;
    expect(decide("SIGTERM")).toBe("exit");
  });

  it("ignores the same signal repeated at once: npm forwards the Ctrl-C the terminal also sent", () => {
    let now = 1_000;
    const decide = createSignalPolicy({ now: () => now, repeatWindowMs: 1_000 });
    expect(decide("SIGINT")).toBe("drain");
    now += 1;
    expect(decide("SIGINT")).toBe("ignore");
    now += 2_000;
    expect(decide("SIGINT")).toBe("exit");
  });

  it("a different signal is never a copy of the first", () => {
    let now = 1_000;
    const decide = createSignalPolicy({ now: () => now, repeatWindowMs: 1_000 });
    expect(decide("SIGTERM")).toBe("drain");
    now += 1;
    expect(decide("SIGINT")).toBe("exit");
  });
});
