import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import { CLIENTS, type TestClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { useTestServer } from "../support/test-server.js";

const fixture = useTestServer();

describe.each(CLIENTS)("$name: Send to the sandbox, then WatchStatus", ({ make }) => {
  let client: TestClient;
  beforeAll(() => {
    client = make(fixture.server);
  });
  afterAll(() => client.close());

  it("sees the whole lifecycle in order, then the stream ends", async () => {
    const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: "order-1" });
    expect(sent.callId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(sent.provider).toBe("sandbox");
    expect(sent.providerCallId).toMatch(/^sbx_/);
    expect(sent.state).toBe(CallState.ACCEPTED);

    const watched = collect(client.watch({ target: { case: "callId", value: sent.callId } }));
    await fixture.carrier.scheduler.runAll();
    const rows = await watched;

    expect(rows.map((r) => r.state)).toEqual(["ACCEPTED", "DIALING", "RINGING", "ANSWERED", "COMPLETED"]);
    expect(rows.map((r) => r.terminal)).toEqual([false, false, false, false, true]);
    const sequences = rows.map((r) => r.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(rows.every((r) => r.callId === sent.callId)).toBe(true);

    const got = await client.getCall(sent.callId);
    expect(got.call?.state).toBe(CallState.COMPLETED);
    expect(got.call?.phoneNumberMasked).toBe("+86*******2222");
    expect(got.call?.clientReference).toBe("order-1");
    expect(got.events.map((e) => Number(e.sequence))).toEqual(sequences);
    expect(got.events.map((e) => e.providerCode)).toEqual(["200", "100", "180", "200", "200"]);
  });

  it("reports a busy callee as FAILED/BUSY with the provider's raw code", async () => {
    const sent = await client.send({ phoneNumber: "+8613711110001", code: "5678" });
    const watched = collect(client.watch({ target: { case: "callId", value: sent.callId } }));
    await fixture.carrier.scheduler.runAll();
    const rows = await watched;
    expect(rows.map((r) => r.state)).toEqual(["ACCEPTED", "DIALING", "FAILED"]);
    expect(rows.at(-1)).toMatchObject({ reason: "BUSY", providerCode: "486", terminal: true });
  });
});

describe("Send outcomes other than accepted", () => {
  let client: TestClient;
  beforeAll(() => {
    client = CLIENTS[0]!.make(fixture.server);
  });
  afterAll(() => client.close());

  it("a synchronous provider refusal is FAILED with the reason, and no call is placed", async () => {
    const before = fixture.carrier.network.pendingCount;
    const sent = await client.send({ phoneNumber: "+8613711110007", code: "1234" });
    expect(sent.state).toBe(CallState.FAILED);
    expect(sent.failureReason).toBe(FailureReason.RATE_LIMITED);
    expect(fixture.carrier.network.pendingCount).toBe(before);
    const got = await client.getCall(sent.callId);
    expect(got.events.map((e) => [CallState[e.state], e.providerCode])).toEqual([["FAILED", "429"]]);
  });

  it("a lost provider answer leaves the call PENDING, and its callbacks still find it", async () => {
    const sent = await client.send({ phoneNumber: "+8613711110009", code: "1234" });
    expect(sent.state).toBe(CallState.PENDING);
    expect(sent.providerCallId).toBe("");
    const watched = collect(client.watch({ target: { case: "callId", value: sent.callId } }));
    await fixture.carrier.scheduler.runAll();
    expect((await watched).map((r) => r.state)).toEqual(["DIALING", "RINGING", "ANSWERED", "COMPLETED"]);
    const got = await client.getCall(sent.callId);
    expect(got.call?.providerCallId).toMatch(/^sbx_/);
  });

  it("an idempotent retry returns the first call and places no second one", async () => {
    const init = { phoneNumber: "+8613711113333", code: "4321", idempotencyKey: "login-77" };
    const first = await client.send(init);
    const pending = fixture.carrier.network.pendingCount;
    const again = await client.send(init);
    expect(again.callId).toBe(first.callId);
    expect(again.idempotentReplay).toBe(true);
    expect(first.idempotentReplay).toBe(false);
    expect(fixture.carrier.network.pendingCount).toBe(pending);
    await fixture.carrier.scheduler.runAll();
  });
});
