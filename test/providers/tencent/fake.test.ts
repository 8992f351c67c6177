/**
 * The fake's own contract: the checks it makes like the real gateway, and the callbacks
 * it pushes, run through the real adapter's webhook parser.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import type { InboundEvent, Provider } from "../../../src/core/provider.js";
import { TENCENT_CONTENT_TYPE } from "../../../src/providers/tencent/client.js";
import { createTencentProvider } from "../../../src/providers/tencent/index.js";
import { signTc3 } from "../../../src/providers/tencent/signer.js";
import { TENCENT_FAKE_DEFAULTS, startTencentFake, type TencentFake } from "../../fakes/tencent.js";
import { createTencentWebhook } from "../../../src/providers/tencent/webhook.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

let fake: TencentFake;
let receiver: WebhookReceiver;
let provider: Provider;

beforeEach(async () => {
  receiver = await startWebhookReceiver(createTencentWebhook());
  fake = await startTencentFake({ stepMs: 5, retryDelayMs: 5 });
  fake.setCallbackUrl(receiver.url);
  provider = createTencentProvider({ ...TENCENT_FAKE_DEFAULTS, endpoint: fake.url });
});
afterEach(async () => {
  await fake.close();
  await receiver.stop();
});

const number = (suffix: string) => `+86137111${suffix.padStart(5, "0")}`;

async function place(suffix: string): Promise<string> {
  const outcome = await provider.send({ callId: `call-${suffix}`, phoneNumber: number(suffix), code: "4938", playTimes: 2 }, AbortSignal.timeout(2000));
  if (outcome.kind !== "accepted") throw new Error(`expected accepted, got ${JSON.stringify(outcome)}`);
  return outcome.providerCallId;
}

const summary = (events: InboundEvent[]) =>
  events.map((e) => `${CallState[e.state]}${e.state === CallState.FAILED ? `/${FailureReason[e.failureReason]}${e.provisional ? "?" : ""}` : ""}`);

describe("tencent fake: callbacks through the adapter's parser", () => {
  it("an answered call pushes one voicecode_callback: ANSWERED then COMPLETED", async () => {
    const id = await place("1234");
    await fake.settled();
    expect(summary(receiver.events)).toEqual(["ANSWERED", "COMPLETED"]);
    expect(receiver.events.every((e) => e.providerCallId === id && e.callId === undefined)).toBe(true);
    const [answered, completed] = receiver.events;
    expect(completed?.occurredAtMs).toBeGreaterThan(answered?.occurredAtMs ?? Number.POSITIVE_INFINITY);
    // The body carries the callee number the way Tencent does (nationcode + mobile); events never do.
    expect(JSON.parse(receiver.bodies[0] ?? "{}")).toMatchObject({ voicecode_callback: { nationcode: "86", mobile: "13711101234" } });
    expect(JSON.stringify(receiver.events)).not.toContain("13711101234");
  });

  // The sandbox's endings (test/fakes/outcomes.ts).
  it.each([
    ["0001", "BUSY", "NO_ANSWER"],
    ["0002", "NO_ANSWER", "NO_ANSWER"],
    ["0003", "INVALID_NUMBER", "PROVIDER_ERROR"],
    ["0004", "POWERED_OFF", "PROVIDER_ERROR"],
    ["0006", "UNREACHABLE", "PROVIDER_ERROR"],
  ])("…%s pushes the precise failure (%s) and a provisional result, in either order", async (suffix, reason, coarseReason) => {
    await place(suffix);
    await fake.settled();
    const coarse = `FAILED/${coarseReason}?`;
    expect(summary(receiver.events)).toEqual([coarse, `FAILED/${reason}`]);

    receiver.events.length = 0;
    fake.setFailureOrder("failure-first");
    await place(suffix);
    await fake.settled();
    expect(summary(receiver.events)).toEqual([`FAILED/${reason}`, coarse]);
  });

  it("…0012 pushes only the coarse call error", async () => {
    await place("0012");
    await fake.settled();
    expect(summary(receiver.events)).toEqual(["FAILED/PROVIDER_ERROR?"]);
  });

  it("…0005 (rejected) pushes only result \"1\": Tencent has no code for a declined call", async () => {
    await place("0005");
    await fake.settled();
    expect(summary(receiver.events)).toEqual(["FAILED/NO_ANSWER?"]);
  });

  it("retries a push until the documented ack, resending it verbatim (same dedupe keys)", async () => {
    receiver.answers.push("retry", "retry", { status: 200, headers: {}, body: '{"result":1,"errmsg":"not stored"}' });
    const id = await place("1234");
    await fake.settled();
    const attempts = fake.deliveries.filter((d) => d.providerCallId === id);
    expect(attempts.map((d) => [d.attempt, d.status, d.acked])).toEqual([
      [1, 503, false],
      [2, 503, false],
      [3, 200, false],
      [4, 200, true],
    ]);
    expect(new Set(receiver.bodies).size).toBe(1);
    expect(summary(receiver.events)).toEqual(["ANSWERED", "COMPLETED"]);
  });

  it("gives up after maxAttempts", async () => {
    await fake.close();
    fake = await startTencentFake({ stepMs: 1, retryDelayMs: 1, maxAttempts: 3, callbackUrl: receiver.url });
    provider = createTencentProvider({ ...TENCENT_FAKE_DEFAULTS, endpoint: fake.url });
    receiver.answers.push(...Array.from({ length: 10 }, () => "retry" as const));
    await place("1234");
    await fake.settled();
    expect(fake.deliveries.map((d) => d.acked)).toEqual([false, false, false]);
  });

  it("pushRaw posts one raw body and returns the receiver's reply", async () => {
    expect(await fake.pushRaw({ voicekey_callback: { callid: "x", keypress: "1" } })).toEqual({ status: 200, body: '{"result":0,"errmsg":"OK"}' });
    expect((await fake.pushRaw("{oops")).status).toBe(400);
  });
});

describe("tencent fake: gateway checks", () => {
  /** A request signed with the adapter's signer but with any body and headers. */
  async function raw(body: string, headerOverrides: Record<string, string> = {}) {
    const url = new URL(fake.url);
    const timestampSec = Math.floor(Date.now() / 1000);
    // The hostname, as the SDK signs it (the Host header sent carries the port).
    const signed = signTc3({ ...TENCENT_FAKE_DEFAULTS, host: url.hostname, service: "vms", contentType: TENCENT_CONTENT_TYPE, payload: body, timestampSec });
    const response = await fetch(fake.url, {
      method: "POST",
      body,
      headers: {
        Authorization: signed.authorization,
        "Content-Type": TENCENT_CONTENT_TYPE,
        "X-TC-Action": "SendCodeVoice",
        "X-TC-Version": "2020-09-02",
        "X-TC-Region": "ap-guangzhou",
        "X-TC-Timestamp": String(timestampSec),
        ...headerOverrides,
      },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { Response: { Error?: { Code: string } } }).Response.Error?.Code ?? "OK";
  }
  const good = { CodeMessage: "1234", CalledNumber: "+8613711112222", VoiceSdkAppid: TENCENT_FAKE_DEFAULTS.sdkAppId, PlayTimes: 2, SessionContext: "c" };
  const body = (overrides: Record<string, unknown>) => JSON.stringify({ ...good, ...overrides });

  it.each([
    ["a good request", "OK", body({}), {}],
    ["no PlayTimes (defaults to 2)", "OK", body({ PlayTimes: undefined }), {}],
    ["a missing CodeMessage", "MissingParameter", body({ CodeMessage: undefined }), {}],
    ["a missing VoiceSdkAppid", "MissingParameter", body({ VoiceSdkAppid: undefined }), {}],
    ["an unknown field", "UnknownParameter", body({ TemplateId: "1" }), {}],
    ["a numeric CodeMessage", "InvalidParameter", body({ CodeMessage: 1234 }), {}],
    ["letters in CodeMessage", "InvalidParameterValue", body({ CodeMessage: "12ab" }), {}],
    ["PlayTimes 4", "InvalidParameterValue", body({ PlayTimes: 4 }), {}],
    ["a number without +", "InvalidParameterValue.CalledNumberVerifyFail", body({ CalledNumber: "8613711112222" }), {}],
    ["invalid JSON", "FailedOperation.InvalidJsonParameters", "{", {}],
    ["another action", "InvalidAction", body({}), { "X-TC-Action": "SendTtsVoice" }],
    ["another version", "NoSuchVersion", body({}), { "X-TC-Version": "2017-03-12" }],
    ["no region", "MissingParameter", body({}), { "X-TC-Region": "" }],
    ["a signed Content-Type that differs from the one sent", "AuthFailure.SignatureFailure", body({}), { "Content-Type": "application/json" }],
    ["a garbled Authorization", "AuthFailure.InvalidAuthorization", body({}), { Authorization: "TC3-HMAC-SHA256 nonsense" }],
    ["a timestamp 6 minutes old", "AuthFailure.SignatureExpire", body({}), { "X-TC-Timestamp": String(Math.floor(Date.now() / 1000) - 360) }],
  ])("answers %s with %s", async (_name, code, payload, headers) => {
    expect(await raw(payload, headers)).toBe(code);
  });

  it("exposes env that configures the adapter against it", () => {
    expect(fake.env).toEqual({
      VOICECODE_TENCENT_SECRET_ID: TENCENT_FAKE_DEFAULTS.secretId,
      VOICECODE_TENCENT_SECRET_KEY: TENCENT_FAKE_DEFAULTS.secretKey,
      VOICECODE_TENCENT_SDK_APP_ID: TENCENT_FAKE_DEFAULTS.sdkAppId,
      VOICECODE_TENCENT_REGION: "ap-guangzhou",
      VOICECODE_TENCENT_ENDPOINT: fake.url,
    });
  });
});
