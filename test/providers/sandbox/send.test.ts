import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailureReason } from "../../../src/core/model.js";
import { createSandboxProvider } from "../../../src/providers/sandbox/index.js";
import { sendRequest, startHarness, type Harness } from "./harness.js";

const live = () => new AbortController().signal;

describe("sandbox send", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("is named sandbox and has no limits of its own", () => {
    expect(h.provider.name).toBe("sandbox");
    expect(h.provider.check?.(sendRequest("c", "1234"))).toBeUndefined();
  });

  it("accepts with a fresh sbx_ id and places the call", async () => {
    const first = await h.provider.send(sendRequest("c1", "1234"), live());
    const second = await h.provider.send(sendRequest("c2", "1234"), live());
    expect(first).toMatchObject({ kind: "accepted", providerCode: "200", providerText: "OK" });
    if (first.kind !== "accepted" || second.kind !== "accepted") throw new Error("expected accepted");
    expect(first.providerCallId).toMatch(/^sbx_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(second.providerCallId).not.toBe(first.providerCallId);
    expect(h.network.pendingCount).toBe(8);
  });

  it.each([
    ["0007", FailureReason.RATE_LIMITED, "429"],
    ["0008", FailureReason.INSUFFICIENT_BALANCE, "402"],
  ])("…%s is refused synchronously and places no call", async (suffix, reason, code) => {
    const outcome = await h.provider.send(sendRequest("c1", suffix), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
    expect(h.network.pendingCount).toBe(0);
    expect(h.scheduler.pendingCount).toBe(0);
    await h.scheduler.runAll();
    expect(h.receiver.bodies).toEqual([]);
  });

  it("…0009 loses the answer but the call is placed and reports under our call id", async () => {
    const outcome = await h.provider.send(sendRequest("c1", "0009"), live());
    expect(outcome.kind).toBe("ambiguous");
    expect(h.network.pendingCount).toBe(4);
    await h.scheduler.runAll();
    expect(h.receiver.events.map((e) => e.callId)).toEqual(["c1", "c1", "c1", "c1"]);
    expect(h.receiver.events[0]?.providerCallId).toMatch(/^sbx_/);
  });

  it("throws on an aborted signal and places nothing", async () => {
    const controller = new AbortController();
    controller.abort(new Error("client gone"));
    await expect(h.provider.send(sendRequest("c1", "1234"), controller.signal)).rejects.toThrow("client gone");
    expect(h.network.pendingCount).toBe(0);
  });

  it("refuses definitively once the network is closed", async () => {
    h.network.close();
    const outcome = await h.provider.send(sendRequest("c1", "1234"), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.PROVIDER_ERROR });
  });

  it("uses a custom id prefix", async () => {
    const provider = createSandboxProvider({ network: h.network, idPrefix: "test_" });
    const outcome = await provider.send(sendRequest("c1", "1234"), live());
    expect(outcome.kind === "accepted" && outcome.providerCallId.startsWith("test_")).toBe(true);
  });

  it("closes the network only when it owns it", async () => {
    await h.provider.send(sendRequest("c1", "1234"), live());
    await h.provider.close?.();
    expect(h.network.pendingCount).toBe(4);
    await createSandboxProvider({ network: h.network, ownsNetwork: true }).close?.();
    expect(h.network.pendingCount).toBe(0);
    expect(h.scheduler.pendingCount).toBe(0);
  });
});
