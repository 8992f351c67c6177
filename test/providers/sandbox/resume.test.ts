import { afterEach, describe, expect, it } from "vitest";
import { CallState, type CallRecord, FailureReason } from "../../../src/core/model.js";
import { maskPhone } from "../../../src/core/phone.js";
import { DEFAULT_SCENARIO, SCENARIOS, resumeSandboxCalls, scenarioFor } from "../../../src/providers/sandbox/index.js";
import { numberEnding, startHarness, type Harness } from "./harness.js";

const toClose: Harness[] = [];
afterEach(async () => {
  for (const h of toClose.splice(0)) await h.close();
});

async function harness(): Promise<Harness> {
  const h = await startHarness();
  toClose.push(h);
  return h;
}

const eventOf = (body: string): string => (JSON.parse(body) as { event: string }).event;

describe("resuming sandbox calls after a restart", () => {
  it("picks the same scenario from the stored masked number as from the number", () => {
    for (const suffix of [...Object.keys(SCENARIOS), "2222"]) {
      const number = numberEnding(suffix);
      const masked = maskPhone(number);
      expect(masked).not.toBe(number);
      expect(scenarioFor(masked)).toBe(scenarioFor(number));
    }
    expect(scenarioFor(maskPhone(numberEnding("2222")))).toBe(DEFAULT_SCENARIO);
  });

  it("plays only the callbacks beyond the stored state", async () => {
    const h = await harness();
    const started = h.network.resumeCall({
      callId: "c1",
      providerCallId: "sbx_c1",
      phoneNumber: maskPhone(numberEnding("2222")),
      playTimes: 1,
      reached: CallState.DIALING,
    });
    expect(started).toBe(true);
    await h.scheduler.runAll();
    expect(h.receiver.bodies.map(eventOf)).toEqual(["ringing", "answered", "completed"]);
    expect(h.receiver.events.every((e) => e.providerCallId === "sbx_c1" && e.callId === "c1")).toBe(true);
  });

  it("resumes nothing for a call past its last scripted state or one it is still playing", async () => {
    const h = await harness();
    const masked = maskPhone(numberEnding("0001"));
    const request = { callId: "c1", providerCallId: "sbx_c1", phoneNumber: masked, playTimes: 1 };
    expect(h.network.resumeCall({ ...request, reached: CallState.FAILED })).toBe(false);
    h.network.placeCall({ ...request, phoneNumber: numberEnding("0001") });
    expect(h.network.resumeCall({ ...request, reached: CallState.ACCEPTED })).toBe(false);
    await h.scheduler.runAll();
    expect(h.receiver.bodies.map(eventOf)).toEqual(["dialing", "failed"]);
  });

  it("pages through the store's open sandbox calls and gives an id to a call that has none", async () => {
    const h = await harness();
    const call = (callId: string, providerCallId: string, state: CallState): CallRecord => ({
      callId,
      kind: "verification",
      templateName: "",
      provider: "sandbox",
      providerCallId,
      phoneMasked: maskPhone(numberEnding("0001")),
      playTimes: 1,
      clientReference: "",
      metadata: {},
      state,
      failureReason: FailureReason.UNSPECIFIED,
      reasonProvisional: false,
      attempt: 1,
      continues: false,
      tenant: "default",
      createdAtMs: 0,
      updatedAtMs: 0,
    });
    const open = [call("a", "sbx_a", CallState.DIALING), call("b", "", CallState.PENDING)];
    const asked: [string, string][] = [];
    const resumed = await resumeSandboxCalls({
      store: {
        async listOpenCalls(provider, after, limit) {
          asked.push([provider, after]);
          return open.filter((c) => c.callId > after).slice(0, limit);
        },
      },
      network: h.network,
      newProviderCallId: () => "sbx_new",
      pageSize: 1,
    });
    expect(resumed).toBe(2);
    expect(asked).toEqual([["sandbox", ""], ["sandbox", "a"], ["sandbox", "b"]]);
    await h.scheduler.runAll();
    expect(h.receiver.events.map((e) => [e.callId, e.providerCallId, CallState[e.state]])).toEqual([
      ["a", "sbx_a", "FAILED"],
      ["b", "sbx_new", "DIALING"],
      ["b", "sbx_new", "FAILED"],
    ]);
  });
});
