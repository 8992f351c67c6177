/**
 * The whole ytx path over real sockets: our adapter sends to the contract fake, the fake
 * pushes its (invented) status pushes to a receiver running our webhook parser.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import type { Provider, ProviderSendRequest } from "../../../src/core/provider.js";
import { createYtxProvider } from "../../../src/providers/ytx/index.js";
import { createYtxWebhook } from "../../../src/providers/ytx/webhook.js";
import { type YtxFake, startYtxFake } from "../../fakes/ytx.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

const live = () => new AbortController().signal;
const request = (phoneNumber: string): ProviderSendRequest => ({ callId: "01JCALL", phoneNumber, code: "482913", playTimes: 1 });

describe("ytx lifecycle through the fake", () => {
  let fake: YtxFake;
  let receiver: WebhookReceiver;
  let provider: Provider;

  beforeEach(async () => {
    receiver = await startWebhookReceiver(createYtxWebhook());
    fake = await startYtxFake({ stepMs: 5, retryDelayMs: 5, maxAttempts: 3, callbackUrl: receiver.url });
    provider = createYtxProvider({ ...fake.credentials, endpoint: fake.url });
  });
  afterEach(async () => {
    await fake.close();
    await receiver.stop();
  });

  const accept = async (phoneNumber: string): Promise<string> => {
    const outcome = await provider.send(request(phoneNumber), live());
    if (outcome.kind !== "accepted") throw new Error(`expected accepted, got ${JSON.stringify(outcome)}`);
    return outcome.providerCallId;
  };

  it("reports a completed call under the provider call id send returned", async () => {
    const id = await accept("+8613911281234");
    await fake.settled();
    expect(receiver.events.map((e) => [e.providerCallId, CallState[e.state]])).toEqual([
      [id, "DIALING"],
      [id, "RINGING"],
      [id, "ANSWERED"],
      [id, "COMPLETED"],
    ]);
    expect(new Set(receiver.events.map((e) => e.dedupeKey)).size).toBe(4);
    for (const event of receiver.events) expect(event.providerText).not.toContain("13911281234");
  });

  // The sandbox's endings (test/fakes/outcomes.ts).
  it.each([
    ["+8613900000001", ["DIALING", "FAILED"], FailureReason.BUSY],
    ["+8613900000002", ["DIALING", "RINGING", "FAILED"], FailureReason.NO_ANSWER],
    ["+8613900000003", ["DIALING", "FAILED"], FailureReason.INVALID_NUMBER],
    ["+8613900000004", ["DIALING", "FAILED"], FailureReason.POWERED_OFF],
    ["+8613900000005", ["DIALING", "RINGING", "FAILED"], FailureReason.REJECTED],
    ["+8613900000006", ["DIALING", "FAILED"], FailureReason.UNREACHABLE],
  ])("…%s ends %j with reason %s", async (phoneNumber, states, reason) => {
    await accept(phoneNumber);
    await fake.settled();
    expect(receiver.events.map((e) => CallState[e.state])).toEqual(states);
    expect(receiver.events.at(-1)?.failureReason).toBe(reason);
  });

  it("…0013 is accepted and never pushed, like the ytx sandbox", async () => {
    await accept("+8613900000013");
    await fake.settled();
    expect(receiver.bodies).toEqual([]);
  });

  it("retries an unacknowledged push verbatim, which dedupes to the same key", async () => {
    receiver.answers.push(503, 500);
    const id = await accept("+8613900000001");
    await fake.settled();
    expect(fake.deliveries.map((d) => [d.attempt, d.result])).toEqual([
      [1, 503],
      [2, 500],
      [3, 200],
      [1, 200],
    ]);
    expect(receiver.bodies[0]).toBe(receiver.bodies[2]);
    const webhook = createYtxWebhook();
    const key = (body: string | undefined) =>
      webhook.parse({ method: "POST", headers: {}, query: new URLSearchParams(), body: Buffer.from(body ?? "") })[0]?.dedupeKey;
    expect(key(receiver.bodies[0])).toBe(receiver.events[0]?.dedupeKey);
    expect(receiver.events.map((e) => e.providerCallId)).toEqual([id, id]);
  });

  it("gives a push up after maxAttempts and goes on with the next one", async () => {
    receiver.answers.push(503, 503, 503);
    await accept("+8613900000001");
    await fake.settled();
    expect(fake.deliveries.map((d) => d.result)).toEqual([503, 503, 503, 200]);
    expect(receiver.events.map((e) => CallState[e.state])).toEqual(["FAILED"]);
  });

  it("gives up on an unreachable receiver and still settles", async () => {
    fake.setCallbackUrl("http://127.0.0.1:1/unused");
    await accept("+8613900000004");
    await fake.settled();
    expect(receiver.bodies).toEqual([]);
    expect(fake.deliveries.every((d) => typeof d.result === "string")).toBe(true);
    expect(fake.deliveries).toHaveLength(6);
  });

  it("pushes raw bodies: a duplicate keeps its key, a malformed one is refused", async () => {
    const body = '{"requestId":"2025030100009999","state":"success"}';
    expect((await fake.pushRaw(body)).status).toBe(200);
    expect((await fake.pushRaw(body)).status).toBe(200);
    expect(receiver.events[0]?.dedupeKey).toBe(receiver.events[1]?.dedupeKey);
    const malformed = await fake.pushRaw("{not json");
    expect(malformed.status).toBe(400);
    expect(receiver.events).toHaveLength(2);
    expect((await fake.pushRaw("requestid=1&status=busy", "application/x-www-form-urlencoded")).status).toBe(200);
    expect(receiver.events.at(-1)?.failureReason).toBe(FailureReason.BUSY);
  });
});
