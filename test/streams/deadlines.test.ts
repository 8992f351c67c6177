import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDeadlines } from "../../src/streams/deadlines.js";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("shared deadlines", () => {
  it("runs each deadline once it is due, in order, on one timer", () => {
    const deadlines = createDeadlines();
    const fired: string[] = [];
    deadlines.at(1_000_300, () => fired.push("c"));
    deadlines.at(1_000_100, () => fired.push("a"));
    deadlines.at(1_000_200, () => fired.push("b"));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(150);
    expect(fired).toEqual(["a"]);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a cancelled deadline never runs, and the last cancel disarms the timer", () => {
    const deadlines = createDeadlines();
    const fired: string[] = [];
    const cancelA = deadlines.at(1_000_100, () => fired.push("a"));
    const cancelB = deadlines.at(1_000_200, () => fired.push("b"));
    cancelA();
    vi.advanceTimersByTime(150);
    expect(fired).toEqual([]);
    cancelB();
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a deadline already past runs on the next tick", () => {
    const deadlines = createDeadlines();
    const fired: string[] = [];
    deadlines.at(999_000, () => fired.push("late"));
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["late"]);
  });

  it("follows the clock it is given, not the timer", () => {
    let now = 0;
    const deadlines = createDeadlines(() => now);
    const fired: string[] = [];
    deadlines.at(100, () => fired.push("x"));
    vi.advanceTimersByTime(100); // the timer fires, but the injected clock has not moved
    expect(fired).toEqual([]);
    now = 100;
    // Re-armed for the time left by the injected clock at the early firing.
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(["x"]);
  });
});
