import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailureReason } from "../../../src/core/model.js";
import type { ProviderSendRequest } from "../../../src/core/provider.js";
import { type KingsoftClientOptions, createKingsoftClient } from "../../../src/providers/kingsoft/client.js";
import {
  KINGSOFT_FAKE_ACCESS_KEY,
  KINGSOFT_FAKE_SECRET_KEY,
  type KingsoftFake,
  type KingsoftFakeFailure,
  startKingsoftFake,
} from "../../fakes/kingsoft.js";

const CALL_ID = "01JQ3Z8K6V2N4W5X7Y9A0B1C2D";
const live = () => new AbortController().signal;

function request(phone = "+8613712345678", overrides: Partial<ProviderSendRequest> = {}): ProviderSendRequest {
  return { callId: CALL_ID, phoneNumber: phone, code: "482913", playTimes: 2, ...overrides };
}

describe("kingsoft client against the fake", () => {
  let fake: KingsoftFake;
  let options: KingsoftClientOptions;
  beforeEach(async () => {
    fake = await startKingsoftFake();
    options = {
      endpoint: fake.url,
      accessKey: KINGSOFT_FAKE_ACCESS_KEY,
      secretKey: KINGSOFT_FAKE_SECRET_KEY,
      templateId: "100001",
    };
  });
  afterEach(async () => {
    await fake.close();
  });

  it("is accepted with the provider's CallId; Mobile is national and ExtId carries our call id", async () => {
    const outcome = await createKingsoftClient(options).send(request(), live());
    expect(outcome).toMatchObject({ kind: "accepted", providerCode: "200" });
    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0]!;
    if (outcome.kind !== "accepted") throw new Error("expected accepted");
    expect(outcome.providerCallId).toBe(call.providerCallId);
    expect(outcome.providerText).toMatch(/^RequestId [0-9a-f-]{36}$/);
    expect(call).toMatchObject({ phoneNumber: "13712345678", code: "482913", playTimes: 2, echo: CALL_ID });
    expect(fake.requests[0]?.params).toMatchObject({
      Accesskey: KINGSOFT_FAKE_ACCESS_KEY,
      Service: "voice",
      Action: "CallVerify",
      Version: "2020-05-01",
      SignatureVersion: "1.0",
      SignatureMethod: "HMAC-SHA256",
      TplId: "100001",
      PlayTimes: "2",
    });
    expect(fake.requests[0]?.params).not.toHaveProperty("Caller");
    expect(fake.requests[0]?.params).not.toHaveProperty("Region");
  });

  it("sends Caller, Region and the configured template when set", async () => {
    const client = createKingsoftClient({ ...options, caller: "01086001234", region: "cn-beijing-6", templateId: "100003" });
    const outcome = await client.send(request("+8613712345678", { playTimes: 1 }), live());
    expect(outcome.kind).toBe("accepted");
    expect(fake.requests[0]?.params).toMatchObject({
      Caller: "01086001234",
      Region: "cn-beijing-6",
      TplId: "100003",
      PlayTimes: "1",
    });
  });

  it("omits ExtId for a call id the provider's format cannot carry", async () => {
    const outcome = await createKingsoftClient(options).send(request("+8613712345678", { callId: "not-a-ulid" }), live());
    expect(outcome.kind).toBe("accepted");
    expect(fake.calls[0]?.echo).toBeUndefined();
  });

  it.each<[KingsoftFakeFailure, string, FailureReason]>([
    ["auth", "SignatureNotMatch", FailureReason.AUTH_ERROR],
    ["rate-limit", "MobileFrequencyLimit", FailureReason.RATE_LIMITED],
    ["flow-limit", "FlowLimitExceeded", FailureReason.RATE_LIMITED],
    ["balance", "TrialTimesLimit", FailureReason.INSUFFICIENT_BALANCE],
    // "服务临时不可用" (HTTP 500): the provider's own temporary trouble, checked before any call.
    ["account", "AccountVoiceServiceUnavailable", FailureReason.PROVIDER_ERROR],
    ["invalid-number", "InvalidMobile", FailureReason.INVALID_NUMBER],
    ["send-failed", "SendVoiceFailed", FailureReason.PROVIDER_ERROR],
  ])("forced %s is rejected as %s", async (failure, code, reason) => {
    fake.failNext(failure);
    const outcome = await createKingsoftClient(options).send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
    if (outcome.kind === "rejected") expect(outcome.providerText).toMatch(/\(RequestId [0-9a-f-]{36}\)$/);
    expect(fake.calls).toHaveLength(0);
  });

  it.each([
    ["+8613700000007", "MobileFrequencyLimit", FailureReason.RATE_LIMITED],
    ["+8613700000008", "TrialTimesLimit", FailureReason.INSUFFICIENT_BALANCE],
  ])("%s is refused by the fake's number table (%s)", async (phone, code, reason) => {
    const outcome = await createKingsoftClient(options).send(request(phone), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
  });

  it("a wrong secret key fails the fake's signature check", async () => {
    const outcome = await createKingsoftClient({ ...options, secretKey: "wrong" }).send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.AUTH_ERROR, providerCode: "SignatureNotMatch" });
  });

  it("an unknown access key is InvalidAccountId", async () => {
    const outcome = await createKingsoftClient({ ...options, accessKey: "AKLTother" }).send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.AUTH_ERROR, providerCode: "InvalidAccountId" });
  });

  it("a clock 20 minutes off fails the timestamp window", async () => {
    const skewed = createKingsoftClient({ ...options, now: () => Date.now() - 20 * 60 * 1000 });
    const outcome = await skewed.send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.AUTH_ERROR, providerCode: "InvalidTimestamp" });
  });

  it("a template outside the system list is InvalidTplId", async () => {
    const outcome = await createKingsoftClient({ ...options, templateId: "1" }).send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.CONFIG_ERROR, providerCode: "InvalidTplId" });
  });

  it.each([
    [{ code: "123" }, "InvalidVerifyCode"],
    [{ playTimes: 3 }, "InvalidPlayTimes"],
  ])("parameters past the provider's limits are refused (%o → %s)", async (overrides, code) => {
    const outcome = await createKingsoftClient(options).send(request("+8613712345678", overrides), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.CONFIG_ERROR, providerCode: code });
  });

  it("keeps the number and the code out of a provider message", async () => {
    fake.failNext({ status: 400, code: "InvalidMobile", message: "bad mobile 13712345678 for code 482913" });
    const outcome = await createKingsoftClient(options).send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.INVALID_NUMBER });
    if (outcome.kind !== "rejected") throw new Error("expected rejected");
    expect(outcome.providerText).toMatch(/^bad mobile \*\*\* for code \*\*\* \(RequestId/);
  });

  it.each([
    [{ status: 400, code: "SomethingNew" }, "rejected", FailureReason.UNKNOWN],
    [{ status: 503, code: "SomethingNew" }, "ambiguous", undefined],
    [{ status: 500, code: "InnerServiceUnavaliable" }, "ambiguous", undefined],
    [{ status: 200, code: "SomethingNew" }, "ambiguous", undefined],
    [{ status: 400, code: "InvalidParameterValue" }, "rejected", FailureReason.CONFIG_ERROR],
  ])("an error body %o is %s", async (answer, kind, reason) => {
    fake.failNext(answer);
    const outcome = await createKingsoftClient(options).send(request(), live());
    expect(outcome.kind).toBe(kind);
    if (reason !== undefined) expect(outcome).toMatchObject({ reason, providerCode: answer.code });
  });

  it.each<[KingsoftFakeFailure, RegExp]>([
    ["internal", /Unknow \(HTTP 500\)/],
    ["service-timeout", /ServiceTimeout \(HTTP 500\)/],
    ["server-error", /HTTP 502 with an unreadable body/],
    ["garbage", /HTTP 200 without a CallId/],
    ["reset", /kingsoft: (ECONNRESET|socket hang up)/],
  ])("forced %s is ambiguous", async (failure, detail) => {
    fake.failNext(failure);
    const outcome = await createKingsoftClient(options).send(request(), live());
    expect(outcome.kind).toBe("ambiguous");
    if (outcome.kind === "ambiguous") expect(outcome.detail).toMatch(detail);
    // The request did reach the provider: that is what makes the outcome ambiguous.
    expect(fake.requests).toHaveLength(1);
  });

  it("a request the fake never answers is ambiguous at our timeout", async () => {
    fake.failNext("hang");
    // The timeout fires once the fake holds the request, not after a fixed delay: a slow
    // machine must not turn this into "never connected" (a refusal).
    const timeout = new AbortController();
    const pending = createKingsoftClient(options).send(request(), timeout.signal);
    await expect.poll(() => fake.requests.length, { interval: 5, timeout: 5000 }).toBe(1);
    timeout.abort(new DOMException("provider timeout", "TimeoutError"));
    expect(await pending).toEqual({ kind: "ambiguous", detail: "kingsoft: timeout" });
  });

  it("a refused connection is rejected: no call was placed", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await createKingsoftClient({ ...options, endpoint: `http://127.0.0.1:${port}/` }).send(request(), live());
    expect(outcome).toMatchObject({
      kind: "rejected",
      reason: FailureReason.PROVIDER_ERROR,
      providerText: expect.stringMatching(/^no call was placed: ECONNREFUSED/),
    });
  });

  it("a non-mainland number never reaches the network", async () => {
    const outcome = await createKingsoftClient(options).send(request("+14155550123"), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.INVALID_NUMBER });
    expect(fake.requests).toHaveLength(0);
  });
});
