import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import type { InboundEvent, Provider } from "../../../src/core/provider.js";
import { createHuaweiProvider } from "../../../src/providers/huawei/index.js";
import { type HuaweiFake, startHuaweiFake } from "../../fakes/huawei.js";
import { createHuaweiWebhook } from "../../../src/providers/huawei/webhook.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

const S = CallState;
const R = FailureReason;

const send = async (provider: Provider, callId: string, phoneNumber: string) => {
  const outcome = await provider.send({ callId, phoneNumber, code: "1234", playTimes: 1 }, AbortSignal.timeout(2000));
  if (outcome.kind !== "accepted") throw new Error(`expected accepted, got ${JSON.stringify(outcome)}`);
  return outcome.providerCallId;
};

const summary = (events: readonly InboundEvent[]) =>
  events.map((e) => [e.providerCode, CallState[e.state], FailureReason[e.failureReason], e.provisional === true]);

describe("huawei fake → our webhook", () => {
  let fake: HuaweiFake;
  let receiver: WebhookReceiver;
  let provider: Provider;

  beforeEach(async () => {
    fake = await startHuaweiFake({ stepMs: 5, retryMs: 5 });
    receiver = await startWebhookReceiver(createHuaweiWebhook());
    provider = createHuaweiProvider({
      appKey: fake.appKey,
      appSecret: fake.appSecret,
      endpoint: fake.url,
      displayNumber: fake.displayNumber,
      preTone: "pre.wav",
      callbackUrl: receiver.url,
    });
  });
  afterEach(async () => {
    await fake.close();
    await receiver.stop();
  });

  it("plays a completed call: callout, alerting, answer, disconnect 0, then the CDR", async () => {
    const sessionId = await send(provider, "call-1", "+8613800001234");
    await fake.settled();
    expect(summary(receiver.events)).toEqual([
      ["callout", "DIALING", "UNSPECIFIED", false],
      ["alerting", "RINGING", "UNSPECIFIED", false],
      ["answer", "ANSWERED", "UNSPECIFIED", false],
      ["0", "COMPLETED", "UNSPECIFIED", false],
      ["q850:16", "COMPLETED", "UNSPECIFIED", false],
    ]);
    for (const event of receiver.events) expect(event).toMatchObject({ callId: "call-1", providerCallId: sessionId });
    const times = receiver.events.map((e) => e.occurredAtMs ?? Number.NaN);
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0))).toBe(true);
  });

  it("ends each scripted number as its table says", async () => {
    // The sandbox's endings (test/fakes/outcomes.ts); 0008's balance failure comes as hang-up cause 7108.
    const table: [string, CallState, FailureReason, string][] = [
      ["0001", S.FAILED, R.BUSY, "q850:17"],
      ["0002", S.FAILED, R.NO_ANSWER, "q850:19"],
      ["0003", S.FAILED, R.INVALID_NUMBER, "q850:1"],
      ["0004", S.FAILED, R.POWERED_OFF, "q850:20"],
      ["0005", S.FAILED, R.REJECTED, "q850:21"],
      ["0006", S.FAILED, R.UNREACHABLE, "q850:41"],
      ["0008", S.FAILED, R.INSUFFICIENT_BALANCE, "q850:0"],
    ];
    await Promise.all(table.map(([suffix]) => send(provider, `call-${suffix}`, `+8613800${suffix}`)));
    await fake.settled();
    for (const [suffix, state, reason, cdrCode] of table) {
      const events = receiver.events.filter((e) => e.callId === `call-${suffix}`);
      const disconnect = events.find((e) => e.dedupeKey.endsWith(":disconnect"));
      const cdr = events.find((e) => e.dedupeKey.endsWith(":fee"));
      expect([suffix, disconnect?.state, disconnect?.failureReason]).toEqual([suffix, state, reason]);
      // A CDR with a cause is precise; only one without (0007) stays provisional.
      expect([suffix, cdr?.state, cdr?.providerCode, cdr?.provisional === true]).toEqual([suffix, S.FAILED, cdrCode, cdrCode === "q850:0"]);
      expect(events[0]?.state).toBe(S.DIALING);
    }
  });

  it("retries a push until it is acknowledged with the same body and dedupe key", async () => {
    receiver.answers.push("retry", "retry");
    await send(provider, "call-r", "+8613800001234");
    await fake.settled();
    expect(receiver.bodies[0]).toBe(receiver.bodies[1]);
    expect(receiver.bodies[1]).toBe(receiver.bodies[2]);
    expect(fake.deliveries.slice(0, 3).map((d) => d.status)).toEqual([500, 500, 200]);
    expect(receiver.events.map((e) => e.state)).toEqual([S.DIALING, S.RINGING, S.ANSWERED, S.COMPLETED, S.COMPLETED]);
  });

  it("gives up on a push after maxAttempts and goes on with the call", async () => {
    receiver.answers.push("retry", "retry", "retry", "retry");
    await send(provider, "call-g", "+8613800001234");
    await fake.settled();
    expect(fake.deliveries.slice(0, 4).every((d) => d.status === 500)).toBe(true);
    expect(receiver.events.map((e) => e.state)).toEqual([S.RINGING, S.ANSWERED, S.COMPLETED, S.COMPLETED]);
  });

  it("pushes to the console URL when the request carried none", async () => {
    const consoleOnly = createHuaweiProvider({
      appKey: fake.appKey,
      appSecret: fake.appSecret,
      endpoint: fake.url,
      displayNumber: fake.displayNumber,
      preTone: "pre.wav",
    });
    fake.setCallbackUrl(receiver.url);
    await send(consoleOnly, "call-c", "+8613800000001");
    await fake.settled();
    expect(summary(receiver.events)).toEqual([
      ["callout", "DIALING", "UNSPECIFIED", false],
      ["8102", "FAILED", "BUSY", false],
      ["q850:17", "FAILED", "BUSY", false],
    ]);
  });

  it("can send a disconnect without its stateCode; the CDR then gives the reason", async () => {
    fake.dropStateCodeNext();
    await send(provider, "call-d", "+8613800000001");
    await fake.settled();
    expect(fake.deliveries.every((d) => d.status === 200)).toBe(true);
    const disconnect = JSON.parse(fake.deliveries[1]?.body ?? "{}") as { eventType: string; statusInfo: Record<string, unknown> };
    expect(disconnect.eventType).toBe("disconnect");
    expect(disconnect.statusInfo).not.toHaveProperty("stateCode");
    expect(summary(receiver.events)).toEqual([
      ["callout", "DIALING", "UNSPECIFIED", false],
      ["disconnect", "FAILED", "UNKNOWN", true],
      ["q850:17", "FAILED", "BUSY", false],
    ]);
  });

  it("lets a test push raw bodies: a duplicate, an out-of-order one and a malformed one", async () => {
    fake.setCallbackUrl(receiver.url);
    const answer = { eventType: "answer", statusInfo: { sessionId: "s-1", timestamp: "2025-01-01 00:00:05", userData: "c" } };
    const callout = { eventType: "callout", statusInfo: { sessionId: "s-1", timestamp: "2025-01-01 00:00:01", userData: "c" } };
    expect((await fake.pushRaw(answer)).status).toBe(200);
    expect((await fake.pushRaw(answer)).status).toBe(200);
    expect((await fake.pushRaw(callout)).status).toBe(200);
    const malformed = await fake.pushRaw('{"eventType":"disconnect","statusInfo":{"stateCode":0}}');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatch(/sessionId/);
    const keys = receiver.events.map((e) => e.dedupeKey);
    expect(keys).toEqual(["s-1:answer", "s-1:answer", "s-1:callout"]);
  });
});
