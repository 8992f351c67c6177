import { describe, expect, it } from "vitest";
import { createLocalBus, type EventNotice } from "../../src/bus/bus.js";
import { CallState, FailureReason, type EventRecord } from "../../src/core/model.js";
import { createManualScheduler } from "../../src/providers/sandbox/index.js";
import type { ExpireRequest, PruneRequest, PruneResult } from "../../src/store/store.js";
import { createDeadlineSweeper } from "../../src/sweep/deadline-sweeper.js";
import { startPeriodic } from "../../src/sweep/periodic.js";
import { createRetentionSweeper } from "../../src/sweep/retention-sweeper.js";

const DAY_MS = 86_400_000;

function expiry(callId: string): EventRecord {
  return {
    sequence: 1,
    callId,
    clientReference: "r",
    state: CallState.FAILED,
    failureReason: FailureReason.UNKNOWN,
    provider: "sandbox",
    providerCallId: "",
    providerCode: "",
    providerText: "",
    occurredAtMs: undefined,
    recordedAtMs: 0,
    provisional: true,
    attempt: 1,
    continues: false,
    tenant: "default",
  };
}

describe("deadline sweeper", () => {
  it("asks for calls created a deadline ago, in batches until one is short, and publishes every expiry", async () => {
    const requests: ExpireRequest[] = [];
    const batches = [[expiry("a"), expiry("b")], [expiry("c")]];
    const bus = createLocalBus();
    const seen: EventNotice[] = [];
    bus.subscribe((n) => seen.push(n));
    const sweeper = createDeadlineSweeper({
      store: {
        async expireCalls(request) {
          requests.push(request);
          return batches.shift() ?? [];
        },
      },
      bus,
      deadlineMs: 1_000,
      now: () => 5_000,
      batchSize: 2,
    });
    expect(await sweeper.sweep()).toBe(3);
    expect(requests.map((r) => [r.createdBeforeMs, r.nowMs, r.limit])).toEqual([
      [4_000, 5_000, 2],
      [4_000, 5_000, 2],
    ]);
    expect(requests[0]?.providerText).toContain("no final status");
    expect(seen.map((n) => n.callId)).toEqual(["a", "b", "c"]);
  });
});

describe("retention sweeper", () => {
  const result = (over: Partial<PruneResult>): PruneResult => ({
    calls: 0,
    events: 0,
    pushes: 0,
    parked: 0,
    busy: false,
    ...over,
  });

  it("deletes in batches until nothing old is left, with each kind's own cutoff", async () => {
    const requests: PruneRequest[] = [];
    const results = [result({ calls: 2, events: 5, pushes: 4, parked: 1 }), result({ calls: 1, events: 2 })];
    const sweeper = createRetentionSweeper({
      store: {
        async prune(request) {
          requests.push(request);
          return results.shift() ?? result({});
        },
      },
      callDays: 90,
      parkedDays: 7,
      batchSize: 2,
      now: () => 100 * DAY_MS,
    });
    expect(await sweeper.sweep()).toEqual({ calls: 3, events: 7, pushes: 4, parked: 1 });
    expect(requests).toEqual([
      { callsBeforeMs: 10 * DAY_MS, parkedBeforeMs: 93 * DAY_MS, limit: 2 },
      { callsBeforeMs: 10 * DAY_MS, parkedBeforeMs: 93 * DAY_MS, limit: 2 },
    ]);
  });

  it("keeps a kind forever when its period is 0, and stops when another replica holds the round", async () => {
    const requests: PruneRequest[] = [];
    const sweeper = createRetentionSweeper({
      store: {
        async prune(request) {
          requests.push(request);
          return result({ busy: true });
        },
      },
      callDays: 0,
      parkedDays: 7,
      batchSize: 2,
      now: () => 100 * DAY_MS,
    });
    await sweeper.sweep();
    expect(requests).toEqual([{ callsBeforeMs: 0, parkedBeforeMs: 93 * DAY_MS, limit: 2 }]);

    const off = createRetentionSweeper({
      store: { prune: () => Promise.reject(new Error("must not be called")) },
      callDays: 0,
      parkedDays: 0,
      batchSize: 2,
      now: () => 0,
    });
    expect(await off.sweep()).toEqual({ calls: 0, events: 0, pushes: 0, parked: 0 });
  });
});

describe("periodic runner", () => {
  it("runs every interval, one run at a time, survives a failing run, and stop() waits for the run in flight", async () => {
    const timers = createManualScheduler();
    const errors: unknown[] = [];
    let runs = 0;
    let release: (() => void) | undefined;
    const periodic = startPeriodic({
      intervalMs: 100,
      timers,
      onError: (err) => errors.push(err),
      run: async () => {
        runs++;
        if (runs === 1) throw new Error("database down");
        if (runs === 3) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    await timers.advance(99);
    expect(runs).toBe(0);
    await timers.advance(1);
    await timers.advance(100);
    expect(runs).toBe(2);
    expect(errors.map(String)).toEqual(["Error: database down"]);

    // The third run hangs: the manual scheduler awaits it, so drive it without awaiting.
    const third = timers.advance(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(3);
    let stopped = false;
    const stopping = periodic.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release?.();
    await stopping;
    await third;
    expect(timers.pendingCount).toBe(0);
    await timers.advance(1_000);
    expect(runs).toBe(3);
  });
});
