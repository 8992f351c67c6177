/**
 * Every call ends: a call whose final status never comes is ended by the deadline
 * sweeper, its watchers end, and a report that arrives after all still refines it. The
 * sandbox's carrier (manual scheduler) is simply not run until after the deadline; the
 * sweeper runs on its own manual timers, and the server's clock follows them.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import { createManualScheduler, type ManualScheduler } from "../../src/providers/sandbox/index.js";
import { grpcJsClient, type TestClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { type Carrier, createCarrier, startTestServer, type TestServer } from "../support/test-server.js";

const DEADLINE_MS = 60_000;
const SWEEP_MS = 1_000;

describe("call deadline", () => {
  let carrier: Carrier;
  let sweeps: ManualScheduler;
  let server: TestServer;
  let client: TestClient;

  beforeEach(async () => {
    carrier = createCarrier();
    sweeps = createManualScheduler();
    const base = Date.now();
    server = await startTestServer(
      carrier,
      {
        VOICECODE_CALL_DEADLINE_MS: String(DEADLINE_MS),
        VOICECODE_DEADLINE_SWEEP_MS: String(SWEEP_MS),
        // The watch ends right after the provisional expiry (its clock is the manual one).
        VOICECODE_REFINE_GRACE_MS: "0",
      },
      { now: () => base + sweeps.now, sweepTimers: sweeps },
    );
    client = grpcJsClient(server.grpcUrl);
  });
  afterEach(async () => {
    client.close();
    await server.stop();
    carrier.network.close();
  });

  it("ends a call whose callbacks never come FAILED UNKNOWN provisional, ends its watcher, and a late push refines it", async () => {
    const sent = await client.send({ phoneNumber: "+8613711110001", code: "1234" });
    const watched = collect(client.watch({ target: { case: "callId", value: sent.callId } }));

    await sweeps.advance(DEADLINE_MS - SWEEP_MS);
    expect((await client.getCall(sent.callId)).call?.state).toBe(CallState.ACCEPTED);
    await sweeps.advance(2 * SWEEP_MS);

    const rows = await watched;
    expect(rows.map((r) => [r.state, r.reason, r.terminal])).toEqual([
      ["ACCEPTED", "UNSPECIFIED", false],
      ["FAILED", "UNKNOWN", false],
    ]);
    const expired = await client.getCall(sent.callId);
    expect(expired.call).toMatchObject({
      state: CallState.FAILED,
      failureReason: FailureReason.UNKNOWN,
      failureReasonProvisional: true,
    });
    expect(expired.events.at(-1)).toMatchObject({ provisional: true, providerCode: "" });
    expect(expired.events.at(-1)?.providerText).toContain("no final status");

    // The carrier delivers after all: dialing is stale, the busy failure refines the expiry.
    await carrier.scheduler.runAll();
    const refined = await client.getCall(sent.callId);
    expect(refined.call).toMatchObject({
      state: CallState.FAILED,
      failureReason: FailureReason.BUSY,
      failureReasonProvisional: false,
    });
    expect(refined.events.map((e) => [CallState[e.state], FailureReason[e.failureReason], e.provisional])).toEqual([
      ["ACCEPTED", "UNSPECIFIED", false],
      ["FAILED", "UNKNOWN", true],
      ["FAILED", "BUSY", false],
    ]);
  });

  it("expires a call left PENDING by a lost Send answer the same way", async () => {
    const sent = await client.send({ phoneNumber: "+8613711110009", code: "1234" });
    expect(sent.state).toBe(CallState.PENDING);
    await sweeps.advance(DEADLINE_MS + SWEEP_MS);
    const got = await client.getCall(sent.callId);
    expect(got.call).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.UNKNOWN });
    expect(got.events.map((e) => [CallState[e.state], e.provisional])).toEqual([["FAILED", true]]);

    // Its callbacks, late: the completion replaces the expiry.
    await carrier.scheduler.runAll();
    expect((await client.getCall(sent.callId)).call).toMatchObject({
      state: CallState.COMPLETED,
      failureReasonProvisional: false,
    });
  });

  it("leaves calls that end in time alone", async () => {
    const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    await carrier.scheduler.runAll();
    await sweeps.advance(DEADLINE_MS * 2);
    const got = await client.getCall(sent.callId);
    expect(got.events.map((e) => CallState[e.state])).toEqual(["ACCEPTED", "DIALING", "RINGING", "ANSWERED", "COMPLETED"]);
  });
});
