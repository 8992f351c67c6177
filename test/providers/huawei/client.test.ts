import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailureReason } from "../../../src/core/model.js";
import type { Provider, ProviderSendRequest } from "../../../src/core/provider.js";
import { encodeCallbackUrl } from "../../../src/providers/huawei/callback-url.js";
import { CALL_VERIFY_PATH, callVerifyBody } from "../../../src/providers/huawei/client.js";
import { createHuaweiProvider, type HuaweiProviderOptions } from "../../../src/providers/huawei/index.js";
import { type HuaweiFake, type HuaweiForcedOutcome, startHuaweiFake } from "../../fakes/huawei.js";

const CALLBACK = "https://hooks.example.com/webhooks/huawei/token-0123456789abcdef";

const request = (overrides: Partial<ProviderSendRequest> = {}): ProviderSendRequest => ({
  callId: "01JCALLID0000000000000000A",
  phoneNumber: "+8613800001234",
  code: "482913",
  playTimes: 2,
  ...overrides,
});

const live = () => AbortSignal.timeout(2000);

describe("huawei client against the fake", () => {
  let fake: HuaweiFake;
  let options: HuaweiProviderOptions;
  let provider: Provider;

  beforeAll(async () => {
    // Pushes are not under test here: a long step keeps the fake from sending any.
    fake = await startHuaweiFake({ stepMs: 60_000 });
    options = {
      appKey: fake.appKey,
      appSecret: fake.appSecret,
      endpoint: fake.url,
      displayNumber: fake.displayNumber,
      preTone: "voicecode-pre.wav",
      callbackUrl: CALLBACK,
    };
    provider = createHuaweiProvider(options);
  });
  afterAll(async () => {
    await fake.close();
  });

  it("is accepted with the sessionId, and userData carries our call id", async () => {
    const before = fake.calls.length;
    const outcome = await provider.send(request(), live());
    const call = fake.calls[before];
    expect(call).toBeDefined();
    expect(outcome).toEqual({ kind: "accepted", providerCallId: call?.providerCallId, providerCode: "0", providerText: "Success" });
    expect(call).toMatchObject({
      echo: "01JCALLID0000000000000000A",
      phoneNumber: "+8613800001234",
      code: "482913",
      playTimes: 2,
      statusUrl: CALLBACK,
      feeUrl: CALLBACK,
    });
  });

  it("sends no statusUrl / feeUrl without a callback URL (the console's URLs apply)", async () => {
    const before = fake.calls.length;
    const outcome = await createHuaweiProvider({ ...options, callbackUrl: undefined }).send(request(), live());
    expect(outcome.kind).toBe("accepted");
    expect(fake.calls[before]).toMatchObject({ statusUrl: undefined, feeUrl: undefined });
  });

  it.each<[HuaweiForcedOutcome, FailureReason, string]>([
    ["auth", FailureReason.AUTH_ERROR, "1023006"],
    ["rate-limit", FailureReason.RATE_LIMITED, "1013001"],
    ["app-rate-limit", FailureReason.RATE_LIMITED, "1013002"],
    ["display-rate-limit", FailureReason.RATE_LIMITED, "1013003"],
    ["time-window", FailureReason.RATE_LIMITED, "1013121"],
    ["ports", FailureReason.RATE_LIMITED, "1020165"],
    ["internal", FailureReason.PROVIDER_ERROR, "1020002"],
    ["invalid-number", FailureReason.INVALID_NUMBER, "1010002"],
  ])("maps the forced %s refusal to its reason", async (forced, reason, code) => {
    fake.failNext(forced);
    const before = fake.calls.length;
    const outcome = await provider.send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
    expect(outcome.kind === "rejected" && outcome.providerText.length).toBeGreaterThan(0);
    expect(fake.calls.length).toBe(before);
  });

  it.each<[string, Partial<HuaweiProviderOptions>, Partial<ProviderSendRequest>, FailureReason, string]>([
    ["a wrong APP_Secret", { appSecret: "not-the-secret" }, {}, FailureReason.AUTH_ERROR, "1023006"],
    ["an unknown APP_Key", { appKey: "SomeOtherAppKey" }, {}, FailureReason.AUTH_ERROR, "1023006"],
    ["a clock 10 minutes fast", { now: () => Date.now() + 600_000 }, {}, FailureReason.AUTH_ERROR, "1023006"],
    ["a display number not of this app", { displayNumber: "+862000000000" }, {}, FailureReason.CONFIG_ERROR, "1010023"],
    ["a preTone over 128 characters", { preTone: `${"a".repeat(130)}.wav` }, {}, FailureReason.CONFIG_ERROR, "1010002"],
    ["a callee the platform refuses (…0015)", {}, { phoneNumber: "+8613800000015" }, FailureReason.INVALID_NUMBER, "1010002"],
  ])("is refused for %s", async (_name, change, req, reason, code) => {
    const outcome = await createHuaweiProvider({ ...options, ...change }).send(request(req), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
  });

  it.each<[string, { status: number; body: string }, object]>([
    ["a 5xx with Huawei's error body", { status: 500, body: '{"resultcode":"1020002","resultdesc":"Internal error."}' }, { kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: "1020002", providerText: "Internal error." }],
    ["a 400 naming a header attribute", { status: 400, body: '{"resultcode":"1023009","resultdesc":"realm must be SDP"}' }, { kind: "rejected", reason: FailureReason.AUTH_ERROR, providerCode: "1023009" }],
    ["an undocumented result code", { status: 400, body: '{"resultcode":"1099999","resultdesc":"Something new"}' }, { kind: "rejected", reason: FailureReason.UNKNOWN, providerCode: "1099999", providerText: "Something new" }],
    ["a result code without a description", { status: 400, body: '{"resultcode":"1013001"}' }, { kind: "rejected", reason: FailureReason.RATE_LIMITED, providerText: "Calls exceed the SP limit" }],
    ["a 4xx that is not Huawei's JSON", { status: 404, body: "<html>Not Found</html>" }, { kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: "http:404" }],
    ["a 200 that is not JSON", { status: 200, body: "<html>OK</html>" }, { kind: "ambiguous" }],
    ["a 200 JSON without a resultcode", { status: 200, body: '{"ok":true}' }, { kind: "ambiguous" }],
    ["a success without a sessionId", { status: 200, body: '{"resultcode":"0","resultdesc":"Success"}' }, { kind: "ambiguous" }],
    ["resultcode 0 with a 4xx status", { status: 400, body: '{"resultcode":"0","sessionId":"s1"}' }, { kind: "ambiguous" }],
    // Java serializers write absent fields as null; only resultcode (and a sessionId) decide.
    ["a success whose resultdesc is null", { status: 200, body: '{"resultcode":"0","resultdesc":null,"sessionId":"1200_2_0_x@host"}' }, { kind: "accepted", providerCallId: "1200_2_0_x@host", providerText: "Success" }],
    ["a refusal whose sessionId is null", { status: 400, body: '{"resultcode":"1013002","resultdesc":"Over the APP limit.","sessionId":null}' }, { kind: "rejected", reason: FailureReason.RATE_LIMITED, providerCode: "1013002" }],
    ["a 5xx refusal whose sessionId is null", { status: 500, body: '{"resultcode":"1020002","resultdesc":null,"sessionId":null}' }, { kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: "1020002", providerText: "Internal error" }],
  ])("classifies %s", async (_name, reply, expected) => {
    fake.failNext(reply);
    expect(await provider.send(request(), live())).toMatchObject(expected);
  });

  it("masks the callee number and the code when Huawei's description quotes them", async () => {
    fake.failNext({
      status: 400,
      body: '{"resultcode":"1010002","resultdesc":"Invalid request. The calleeNbr +8613800001234 is invalid (verifyCode 482913)."}',
    });
    const outcome = await provider.send(request(), live());
    // The reason still comes from the unmasked text, which names calleeNbr.
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.INVALID_NUMBER, providerCode: "1010002" });
    const text = outcome.kind === "rejected" ? outcome.providerText : "";
    expect(text).toBe("Invalid request. The calleeNbr *** is invalid (verifyCode ***).");
  });

  it("masks the webhook token, in every form, when Huawei's answer quotes the request", async () => {
    fake.failNext("quote-request");
    const outcome = await provider.send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", providerCode: "1010002" });
    const text = outcome.kind === "rejected" ? outcome.providerText : "";
    // The quote is there (so the test can fail), with its secrets masked.
    expect(text).toMatch(/statusUrl/);
    const encoded = encodeCallbackUrl(CALLBACK);
    expect(text).not.toContain("token-0123456789abcdef");
    for (let i = 0; i + 12 <= encoded.length; i++) expect(text).not.toContain(encoded.slice(i, i + 12));
    expect(text).not.toContain("13800001234");
    expect(text).not.toContain("482913");
  });

  it("masks the token from the console's URL too when no callback URL is sent", async () => {
    const consoleOnly = createHuaweiProvider({ ...options, callbackUrl: undefined, webhookToken: "console-token-0123456789" });
    fake.failNext({ status: 400, body: '{"resultcode":"1010002","resultdesc":"push to https://h.example/webhooks/huawei/console-token-0123456789 refused"}' });
    const outcome = await consoleOnly.send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", providerText: "push to https://h.example/webhooks/huawei/*** refused" });
  });

  it("accepts a numeric resultcode with a sessionId", async () => {
    fake.failNext({ status: 200, body: '{"resultcode":0,"sessionId":"1200_1_0_x@host"}' });
    expect(await provider.send(request(), live())).toMatchObject({ kind: "accepted", providerCallId: "1200_1_0_x@host" });
  });

  it("calls an unparseable 5xx ambiguous: the platform may have acted", async () => {
    fake.failNext("server-error");
    expect(await provider.send(request(), live())).toMatchObject({ kind: "ambiguous", detail: expect.stringContaining("502") });
  });

  it("calls a request that never gets an answer ambiguous once our timeout fires", async () => {
    fake.failNext("hang");
    expect(await provider.send(request(), AbortSignal.timeout(100))).toEqual({ kind: "ambiguous", detail: "timeout" });
  });

  it("calls a connection reset after sending ambiguous", async () => {
    fake.failNext("reset");
    const before = fake.requestCount;
    expect((await provider.send(request(), live())).kind).toBe("ambiguous");
    expect(fake.requestCount).toBe(before + 1);
  });

  it("appends the documented path to an endpoint given with a trailing slash", async () => {
    expect(CALL_VERIFY_PATH).toBe("/rest/httpsessions/callVerify/v1.0");
    const outcome = await createHuaweiProvider({ ...options, endpoint: `${fake.url}/` }).send(request(), live());
    expect(outcome.kind).toBe("accepted");
  });

  it("says no call was placed when the endpoint refuses the connection", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await createHuaweiProvider({ ...options, endpoint: `http://127.0.0.1:${port}` }).send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.PROVIDER_ERROR });
    expect(outcome.kind === "rejected" && outcome.providerText).toMatch(/^no call was placed: ECONNREFUSED/);
  });
});

describe("huawei callVerify body", () => {
  const tones = { displayNumber: "+862088880000", preTone: "pre.wav", posTone: undefined };

  it("carries every documented field, userData = our call id", () => {
    expect(callVerifyBody(tones, "aHR0cDovL3g=", request())).toEqual({
      displayNbr: "+862088880000",
      calleeNbr: "+8613800001234",
      languageType: 2,
      preTone: "pre.wav",
      verifyCode: "482913",
      times: 2,
      statusUrl: "aHR0cDovL3g=",
      feeUrl: "aHR0cDovL3g=",
      userData: "01JCALLID0000000000000000A",
    });
  });

  it("adds posTone only when configured and omits the URLs without a callback", () => {
    const body = callVerifyBody({ ...tones, posTone: "post.wav" }, undefined, request());
    expect(body.posTone).toBe("post.wav");
    expect(body).not.toHaveProperty("statusUrl");
    expect(body).not.toHaveProperty("feeUrl");
    expect(callVerifyBody(tones, undefined, request())).not.toHaveProperty("posTone");
  });
});
