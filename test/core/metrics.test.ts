import { describe, expect, it } from "vitest";
import { countFinishedCalls } from "../../src/core/metrics.js";
import { CallState, type EventRecord, FailureReason } from "../../src/core/model.js";

function event(state: CallState, extra: Partial<EventRecord> = {}): EventRecord {
  return {
    sequence: 1,
    callId: "c1",
    tenant: "acme",
    clientReference: "",
    state,
    failureReason: FailureReason.UNSPECIFIED,
    provider: "tencent",
    providerCallId: "p1",
    providerCode: "",
    providerText: "",
    occurredAtMs: undefined,
    recordedAtMs: 0,
    provisional: false,
    attempt: 1,
    continues: false,
    ...extra,
  };
}

describe("countFinishedCalls", () => {
  it("does not count a failure after which another attempt follows", () => {
    const finished: string[] = [];
    countFinishedCalls({ callFinished: (_p, state) => void finished.push(state) }, [
      event(CallState.FAILED, { failureReason: FailureReason.BUSY, continues: true }),
    ]);
    expect(finished).toEqual([]);
  });

  it("counts terminal events by state and reason name, and nothing else", () => {
    const seen: unknown[] = [];
    countFinishedCalls({ callFinished: (...args) => seen.push(args) }, [
      event(CallState.ACCEPTED),
      event(CallState.RINGING),
      event(CallState.COMPLETED),
      event(CallState.FAILED, { failureReason: FailureReason.NO_ANSWER }),
    ]);
    expect(seen).toEqual([
      ["tencent", "COMPLETED", undefined, "acme"],
      ["tencent", "FAILED", "NO_ANSWER", "acme"],
    ]);
  });

  it("counts a refined failure once, with its precise reason, not the provisional one", () => {
    const seen: unknown[] = [];
    countFinishedCalls({ callFinished: (...args) => seen.push(args) }, [
      event(CallState.FAILED, { failureReason: FailureReason.UNKNOWN, provisional: true }),
      event(CallState.FAILED, { failureReason: FailureReason.POWERED_OFF }),
    ]);
    expect(seen).toEqual([["tencent", "FAILED", "POWERED_OFF", "acme"]]);
  });
});
