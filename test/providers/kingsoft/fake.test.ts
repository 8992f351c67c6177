import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import type { Provider } from "../../../src/core/provider.js";
import { kingsoftModule } from "../../../src/providers/kingsoft/index.js";
import { type KingsoftFake, startKingsoftFake } from "../../fakes/kingsoft.js";
import { createKingsoftWebhook } from "../../../src/providers/kingsoft/webhook.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

const live = () => new AbortController().signal;
const callId = (n: number) => `01JQ3Z8K6V2N4W5X7Y9A0B${String(n).padStart(4, "0")}`;

describe("kingsoft fake pushing to our webhook", () => {
  let fake: KingsoftFake;
  let receiver: WebhookReceiver;
  let provider: Provider;

  beforeEach(async () => {
    fake = await startKingsoftFake({ stepMs: 5, retryMs: 2 });
    receiver = await startWebhookReceiver(createKingsoftWebhook());
    fake.setCallbackUrl(receiver.url);
    // Configured exactly as an operator would, from the fake's env.
    const setup = kingsoftModule.configure({ ...fake.env, VOICECODE_KINGSOFT_WEBHOOK_TOKEN: "test-token-0123456789" });
    if (setup.status !== "ready") throw new Error(`expected ready, got ${setup.status}`);
    provider = setup.create({ webhookPublicUrl: undefined, logger: pino({ level: "silent" }) });
  });
  afterEach(async () => {
    await fake.close();
    await receiver.stop();
  });

  const send = async (phone: string, id: string) => {
    const outcome = await provider.send({ callId: id, phoneNumber: phone, code: "482913", playTimes: 2 }, live());
    if (outcome.kind !== "accepted") throw new Error(`expected accepted, got ${JSON.stringify(outcome)}`);
    return outcome.providerCallId;
  };

  it("a default call is reported answered then completed, with our call id echoed", async () => {
    const providerCallId = await send("+8613712345678", callId(1));
    await fake.settled();
    expect(receiver.bodies).toHaveLength(1);
    expect(JSON.parse(receiver.bodies[0]!)).toEqual([
      expect.objectContaining({ CallId: providerCallId, ExtId: callId(1), Status: "SUCCESS", Mobile: "13712345678" }),
    ]);
    expect(receiver.events.map((e) => [e.state, e.providerCallId, e.callId])).toEqual([
      [CallState.ANSWERED, providerCallId, callId(1)],
      [CallState.COMPLETED, providerCallId, callId(1)],
    ]);
    expect(receiver.events[0]!.occurredAtMs).toBeLessThan(receiver.events[1]!.occurredAtMs!);
  });

  it("each scripted suffix ends the way the fake's table says", async () => {
    // The sandbox's endings, then the fake-only ones (test/fakes/outcomes.ts).
    const table: [string, FailureReason][] = [
      ["0001", FailureReason.BUSY],
      ["0002", FailureReason.NO_ANSWER],
      ["0003", FailureReason.INVALID_NUMBER],
      ["0004", FailureReason.POWERED_OFF],
      ["0005", FailureReason.REJECTED],
      ["0006", FailureReason.UNREACHABLE],
      ["0010", FailureReason.SUSPENDED],
      ["0011", FailureReason.BLOCKED],
      ["0014", FailureReason.NO_ANSWER],
    ];
    const ids = new Map<string, FailureReason>();
    for (const [i, [suffix, reason]] of table.entries()) {
      ids.set(await send(`+861370000${suffix}`, callId(i)), reason);
    }
    await fake.settled();
    expect(receiver.events).toHaveLength(table.length);
    for (const event of receiver.events) {
      expect(event.state).toBe(CallState.FAILED);
      expect(event.failureReason).toBe(ids.get(event.providerCallId));
    }
  });

  it("re-pushes the same body until it gets exactly the documented ack", async () => {
    receiver.answers.push("retry", { status: 200, body: "OK" }, { status: 200, body: '{"code":0,"msg":"ok"}' });
    await send("+8613712345678", callId(1));
    await fake.settled();
    expect(fake.deliveries.map((d) => [d.status, d.acked])).toEqual([
      [500, false],
      [200, false],
      [200, false],
      [200, true],
    ]);
    expect(new Set(receiver.bodies).size).toBe(1);
  });

  it("gives up after maxAttempts", async () => {
    receiver.answers.push(...Array.from({ length: 5 }, () => "retry" as const));
    await send("+8613712345678", callId(1));
    await fake.settled();
    expect(fake.deliveries).toHaveLength(5);
    expect(fake.deliveries.every((d) => !d.acked)).toBe(true);
    expect(receiver.events).toHaveLength(0);
  });

  it("batchNext pushes several calls' reports in one POST", async () => {
    fake.batchNext(3);
    const ids = [
      await send("+8613712345678", callId(1)),
      await send("+8613700000002", callId(2)),
      await send("+8613712340000", callId(3)),
    ];
    await fake.settled();
    expect(receiver.bodies).toHaveLength(1);
    expect((JSON.parse(receiver.bodies[0]!) as { CallId: string }[]).map((r) => r.CallId).sort()).toEqual([...ids].sort());
    expect(receiver.events.map((e) => e.state).sort()).toEqual(
      [CallState.ANSWERED, CallState.ANSWERED, CallState.COMPLETED, CallState.COMPLETED, CallState.FAILED].sort(),
    );
  });

  it("shapeReports prints a batch as the doc does and leaves out the fields asked", async () => {
    const unread = ["StartTime", "Duration", "Mobile", "PressKey", "Caller", "CallerDisplay", "VoiceType"];
    fake.shapeReports({ printAsDoc: true, omit: unread });
    fake.batchNext(2);
    const ids = [await send("+8613712345678", callId(1)), await send("+8613700000005", callId(2))];
    await fake.settled();
    const body = receiver.bodies[0] ?? "";
    expect(receiver.bodies).toHaveLength(1);
    expect(() => JSON.parse(body)).toThrow(SyntaxError);
    expect(body).toMatch(/^\[\n {4}\{\n {8}"Status": "(SUCCESS|FAIL)",\n/);
    expect(body).toMatch(/,\n {4}\},\n {4}\{\n/);
    expect(body.endsWith(",\n    }\n]")).toBe(true);
    for (const field of unread) expect(body).not.toContain(`"${field}"`);
    expect(fake.deliveries.map((d) => d.acked)).toEqual([true]);
    // The two reports are batched in the order they became ready, which timing decides.
    const byCall = (id: string | undefined) =>
      receiver.events.filter((e) => e.providerCallId === id).map((e) => [e.state, e.failureReason]);
    expect(byCall(ids[0])).toEqual([
      [CallState.ANSWERED, FailureReason.UNSPECIFIED],
      [CallState.COMPLETED, FailureReason.UNSPECIFIED],
    ]);
    expect(byCall(ids[1])).toEqual([[CallState.FAILED, FailureReason.REJECTED]]);
  });

  it("pushRaw delivers duplicates, out-of-order and malformed bodies as given", async () => {
    const providerCallId = await send("+8613712345678", callId(1));
    await fake.settled();
    const [report] = JSON.parse(receiver.bodies[0]!) as object[];
    const again = await fake.pushRaw([report]);
    expect(again).toEqual({ status: 200, body: '{"code":0,"msg":"success"}' });
    const keys = receiver.events.map((e) => e.dedupeKey);
    expect(keys.slice(2)).toEqual(keys.slice(0, 2));
    expect(keys[0]).toBe(`${providerCallId}:answered`);

    const malformed = await fake.pushRaw('[{"Status":"SUCCESS",');
    expect(malformed.status).toBe(400);
    // Reports, with the doc's trailing comma, but no CallId: acknowledged and kept aside.
    const unusable = await fake.pushRaw('[{"Status":"SUCCESS",}]');
    expect(unusable).toEqual({ status: 200, body: '{"code":0,"msg":"success"}' });
    expect(receiver.events.at(-1)).toMatchObject({ unreadable: true, providerCallId: "" });
  });
});
