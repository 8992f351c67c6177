import { describe, expect, it } from "vitest";
import { createManualScheduler, createRealtimeScheduler } from "../../../src/providers/sandbox/scheduler.js";

describe("manual scheduler", () => {
  it("runs tasks in due order, same-time tasks in scheduling order, and moves its clock", async () => {
    const s = createManualScheduler();
    const log: string[] = [];
    s.schedule(300, () => void log.push(`c@${s.now}`));
    s.schedule(100, () => void log.push(`a@${s.now}`));
    s.schedule(100, () => void log.push(`b@${s.now}`));
    await s.runAll();
    expect(log).toEqual(["a@100", "b@100", "c@300"]);
    expect(s.pendingCount).toBe(0);
  });

  it("waits for an async task before running the next, and runs tasks it schedules", async () => {
    const s = createManualScheduler();
    const log: string[] = [];
    s.schedule(10, async () => {
      await Promise.resolve();
      log.push("first");
      s.schedule(5, () => void log.push(`nested@${s.now}`));
    });
    s.schedule(20, () => void log.push("second"));
    await s.runAll();
    expect(log).toEqual(["first", "nested@15", "second"]);
  });

  it("advance runs only what falls due within the window", async () => {
    const s = createManualScheduler();
    const log: number[] = [];
    s.schedule(100, () => void log.push(100));
    s.schedule(250, () => void log.push(250));
    await s.advance(200);
    expect(log).toEqual([100]);
    expect(s.now).toBe(200);
    expect(await s.runNext()).toBe(true);
    expect(log).toEqual([100, 250]);
    expect(await s.runNext()).toBe(false);
  });

  it("cancel removes a task", async () => {
    const s = createManualScheduler();
    let ran = false;
    const cancel = s.schedule(10, () => {
      ran = true;
    });
    cancel();
    await s.runAll();
    expect(ran).toBe(false);
  });

  it("runAll refuses to loop forever", async () => {
    const s = createManualScheduler();
    const again = (): void => void s.schedule(1, again);
    again();
    await expect(s.runAll(50)).rejects.toThrow(/still busy/);
  });
});

describe("realtime scheduler", () => {
  it("runs a task after its delay and can cancel another", async () => {
    const s = createRealtimeScheduler();
    let cancelledRan = false;
    s.schedule(0, () => {
      cancelledRan = true;
    })();
    await new Promise<void>((resolve) => s.schedule(1, resolve));
    expect(cancelledRan).toBe(false);
  });
});
