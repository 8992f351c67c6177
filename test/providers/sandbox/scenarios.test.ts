import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { describeScenarios, scenarioFor, SCENARIOS } from "../../../src/providers/sandbox/scenarios.js";
import { sendRequest, startHarness, type Harness } from "./harness.js";

const { DIALING, RINGING, ANSWERED, COMPLETED, FAILED } = CallState;

// Written out by hand so the table in src is checked, not echoed.
const EXPECTED = [
  { suffix: "0001", send: "accepted", states: [DIALING, FAILED], reason: FailureReason.BUSY, code: "486" },
  { suffix: "0002", send: "accepted", states: [DIALING, RINGING, FAILED], reason: FailureReason.NO_ANSWER, code: "480" },
  { suffix: "0003", send: "accepted", states: [DIALING, FAILED], reason: FailureReason.INVALID_NUMBER, code: "404" },
  { suffix: "0004", send: "accepted", states: [DIALING, FAILED], reason: FailureReason.POWERED_OFF, code: "701" },
  { suffix: "0005", send: "accepted", states: [DIALING, RINGING, FAILED], reason: FailureReason.REJECTED, code: "603" },
  { suffix: "0006", send: "accepted", states: [DIALING, FAILED], reason: FailureReason.UNREACHABLE, code: "702" },
  { suffix: "0009", send: "ambiguous", states: [DIALING, RINGING, ANSWERED, COMPLETED], reason: FailureReason.UNSPECIFIED, code: "200" },
  { suffix: "1234", send: "accepted", states: [DIALING, RINGING, ANSWERED, COMPLETED], reason: FailureReason.UNSPECIFIED, code: "200" },
] as const;

describe("sandbox scenarios through real callbacks", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it.each(EXPECTED)("…$suffix: $send, then $code", async ({ suffix, send, states, reason, code }) => {
    const outcome = await h.provider.send(sendRequest("call-1", suffix), new AbortController().signal);
    expect(outcome.kind).toBe(send);
    await h.scheduler.runAll();

    const events = h.receiver.events;
    expect(events.map((e) => e.state)).toEqual(states);
    expect(events.every((e) => e.callId === "call-1")).toBe(true);
    const last = events.at(-1);
    expect(last?.failureReason).toBe(reason);
    expect(last?.providerCode).toBe(code);
    if (outcome.kind === "accepted") expect(events.every((e) => e.providerCallId === outcome.providerCallId)).toBe(true);
    expect(h.network.pendingCount).toBe(0);
    expect(h.deliveryErrors).toEqual([]);
  });

  it("paces a completed call like a real one: the code plays playTimes steps", async () => {
    const at: number[] = [];
    h.receiver.onRequest = () => at.push(h.scheduler.now);
    await h.provider.send(sendRequest("call-1", "1234", 3), new AbortController().signal);
    await h.scheduler.runAll();
    // 800 ms steps: dial 1, ring 1, answer after 2, complete after 1 + 3 plays.
    expect(at).toEqual([800, 1600, 3200, 6400]);
  });

  it("never sends the phone number or the code", async () => {
    await h.provider.send(sendRequest("call-1", "1234"), new AbortController().signal);
    await h.scheduler.runAll();
    expect(h.receiver.bodies).toHaveLength(4);
    for (const body of h.receiver.bodies) {
      expect(body).not.toContain("13700001234");
      expect(body).not.toContain("493817");
    }
  });
});

describe("scenario table", () => {
  it("picks by the last four digits, anything else completes", () => {
    expect(scenarioFor("+8613700000001").name).toBe("busy");
    expect(scenarioFor("+1 (415) 555-0005").name).toBe("rejected");
    expect(scenarioFor("+8613700010000").name).toBe("completed");
  });

  it("describes every entry plus the default", () => {
    const rows = describeScenarios();
    expect(rows.map((r) => r.suffix)).toEqual([...Object.keys(SCENARIOS), "other"]);
    expect(rows.find((r) => r.suffix === "0001")).toEqual({
      suffix: "0001",
      name: "busy",
      send: "accepted",
      callbacks: ["dialing 100", "failed 486"],
      finalState: "FAILED",
      failureReason: "BUSY",
    });
    expect(rows.find((r) => r.suffix === "0007")).toMatchObject({ send: "rejected", callbacks: [], failureReason: "RATE_LIMITED" });
    expect(rows.find((r) => r.suffix === "0009")).toMatchObject({ send: "ambiguous", finalState: "COMPLETED" });
    expect(rows.find((r) => r.suffix === "other")).toMatchObject({ send: "accepted", finalState: "COMPLETED", failureReason: "UNSPECIFIED" });
  });
});
