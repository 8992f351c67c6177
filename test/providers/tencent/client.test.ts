import http from "node:http";
import type { AddressInfo } from "node:net";
import SdkHttpModule from "tencentcloud-sdk-nodejs-common/tencentcloud/common/http/http_connection.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailureReason } from "../../../src/core/model.js";
import type { Provider, SendOutcome } from "../../../src/core/provider.js";
import { classifySendCodeVoiceResult } from "../../../src/providers/tencent/client.js";
import { createTencentProvider, type TencentProviderOptions } from "../../../src/providers/tencent/index.js";
import { FORCED, TENCENT_FAKE_DEFAULTS, startTencentFake, type TencentFake, type TencentFakeOutcome } from "../../fakes/tencent.js";

const R = FailureReason;
let fake: TencentFake;
let options: TencentProviderOptions;
let provider: Provider;

beforeAll(async () => {
  fake = await startTencentFake();
  options = { ...TENCENT_FAKE_DEFAULTS, endpoint: fake.url };
  provider = createTencentProvider(options);
});
afterAll(async () => {
  await fake.close();
});

const request = (suffix = "1234", callId = "01JCALLID0000000000000000A") => ({
  callId,
  phoneNumber: `+86137111${suffix.padStart(5, "0")}`,
  code: "493817",
  playTimes: 2,
});
const signal = () => AbortSignal.timeout(2000);
const sendWith = (overrides: Partial<TencentProviderOptions>, req = request()) =>
  createTencentProvider({ ...options, ...overrides }).send(req, signal());

/** A rejection's text must never quote the number or the code. */
function expectClean(outcome: SendOutcome): void {
  const text = JSON.stringify(outcome);
  expect(text).not.toContain("13711101234");
  expect(text).not.toContain("493817");
}

describe("tencent client against the fake: success", () => {
  it("is accepted with Tencent's CallId, our call id riding in SessionContext", async () => {
    const before = fake.calls.length;
    const outcome = await provider.send(request("1234", "01JECHO0000000000000000000"), signal());
    const call = fake.calls[before];
    expect(outcome).toEqual({
      kind: "accepted",
      providerCallId: call?.providerCallId,
      providerCode: "OK",
      providerText: expect.stringMatching(/^accepted \(RequestId [0-9a-f-]{36}\)$/),
    });
    expect(call).toMatchObject({ phoneNumber: "+8613711101234", code: "493817", playTimes: 2, echo: "01JECHO0000000000000000000" });
  });

  it("sends the documented headers and exactly the signed JSON body", async () => {
    await provider.send(request(), signal());
    const sent = fake.requests.at(-1);
    expect(sent?.answer).toBe("OK");
    expect(sent?.headers).toMatchObject({
      "content-type": "application/json; charset=utf-8",
      host: new URL(fake.url).host,
      "x-tc-action": "SendCodeVoice",
      "x-tc-version": "2020-09-02",
      "x-tc-region": "ap-guangzhou",
      "x-tc-timestamp": expect.stringMatching(/^[0-9]{10}$/),
      authorization: expect.stringMatching(
        new RegExp(`^TC3-HMAC-SHA256 Credential=${TENCENT_FAKE_DEFAULTS.secretId}/\\d{4}-\\d{2}-\\d{2}/vms/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$`),
      ),
    });
    expect(JSON.parse(sent?.body ?? "")).toEqual({
      CodeMessage: "493817",
      CalledNumber: "+8613711101234",
      VoiceSdkAppid: TENCENT_FAKE_DEFAULTS.sdkAppId,
      PlayTimes: 2,
      SessionContext: "01JCALLID0000000000000000A",
    });
  });
});

// The official Node SDK (tencentcloud-sdk-nodejs-common 4.1.220, a devDependency), run
// unchanged against the fake. Its sign3 signs `host:<hostname>` (the URL's hostname, port
// dropped) while HttpConnection sends `Host: <host>` (port kept): the fake, like Tencent's
// gateway, must accept exactly that, or it would refuse the SDK's own requests and pass
// a client that signs the port.
const SdkHttpConnection = ((SdkHttpModule as { default?: unknown }).default ?? SdkHttpModule) as typeof SdkHttpModule;

describe("tencent: the official SDK against the fake (explicit port)", () => {
  it("the fake accepts a SendCodeVoice sent by the SDK itself", async () => {
    const before = fake.calls.length;
    const response = await SdkHttpConnection.HttpConnection.doRequestWithSign3({
      method: "POST",
      url: `${fake.url}/`,
      data: { CodeMessage: "4567", CalledNumber: "+8613711104321", VoiceSdkAppid: TENCENT_FAKE_DEFAULTS.sdkAppId, PlayTimes: 2 },
      service: "vms",
      action: "SendCodeVoice",
      region: TENCENT_FAKE_DEFAULTS.region,
      version: "2020-09-02",
      secretId: TENCENT_FAKE_DEFAULTS.secretId,
      secretKey: TENCENT_FAKE_DEFAULTS.secretKey,
      token: "",
      requestClient: "SDK_NODEJS_4.1.220",
      language: "",
      timeout: 2000,
    });
    const answer = (await response.json()) as { Response: { SendStatus?: { CallId: string }; Error?: unknown } };
    expect(answer.Response.Error).toBeUndefined();
    expect(answer.Response.SendStatus?.CallId).toBe(fake.calls[before]?.providerCallId);
    // What the SDK put on the wire: a Host with the port, a signature over the hostname.
    const sent = fake.requests.at(-1);
    expect(new URL(fake.url).port).not.toBe("");
    expect(sent?.headers.host).toBe(new URL(fake.url).host);
  });

  it("our client, signing the hostname and sending Host with the port like the SDK, is accepted too", async () => {
    await provider.send(request(), signal());
    const ours = fake.requests.at(-1);
    expect(ours?.answer).toBe("OK");
    expect(ours?.headers.host).toBe(new URL(fake.url).host);
  });
});

describe("tencent client against the fake: refusals the fake's checks produce", () => {
  it.each<[string, Partial<TencentProviderOptions>, string, FailureReason]>([
    ["a wrong SecretKey", { secretKey: "not-the-key" }, "AuthFailure.SignatureFailure", R.AUTH_ERROR],
    ["an unknown SecretId", { secretId: "AKIDunknown" }, "AuthFailure.SecretIdNotFound", R.AUTH_ERROR],
    ["a clock 6 minutes slow", { now: () => Date.now() - 6 * 60_000 }, "AuthFailure.SignatureExpire", R.AUTH_ERROR],
    ["an unknown VoiceSdkAppid", { sdkAppId: "1400000000" }, "InvalidParameterValue.SdkAppidNotExist", R.CONFIG_ERROR],
    ["an unsupported region", { region: "eu-frankfurt" }, "UnsupportedRegion", R.CONFIG_ERROR],
  ])("%s → %s", async (_name, overrides, code, reason) => {
    const before = fake.calls.length;
    const outcome = await sendWith(overrides);
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code, providerText: expect.stringContaining("RequestId") });
    expectClean(outcome);
    expect(fake.calls.length).toBe(before);
  });

  it("a clock skew within 5 minutes still signs acceptably", async () => {
    expect(await sendWith({ now: () => Date.now() - 4 * 60_000 })).toMatchObject({ kind: "accepted" });
  });

  it("a number Tencent cannot parse → INVALID_NUMBER", async () => {
    const outcome = await provider.send({ ...request(), phoneNumber: "+0137" }, signal());
    expect(outcome).toMatchObject({ kind: "rejected", reason: R.INVALID_NUMBER, providerCode: "InvalidParameterValue.CalledNumberVerifyFail" });
  });

  it.each([
    ["0007", "LimitExceeded.DeliveryFrequencyLimit", R.RATE_LIMITED],
    ["0008", "FailedOperation.InsufficientBalanceInVoicePackage", R.INSUFFICIENT_BALANCE],
  ])("a number ending %s → %s", async (suffix, code, reason) => {
    const outcome = await provider.send(request(suffix), signal());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
  });
});

describe("tencent client against the fake: forced answers", () => {
  it.each<[TencentFakeOutcome, FailureReason]>([
    ["auth", R.AUTH_ERROR],
    ["secret-id", R.AUTH_ERROR],
    ["rate-limit", R.RATE_LIMITED],
    ["request-limit", R.RATE_LIMITED],
    ["insufficient-balance", R.INSUFFICIENT_BALANCE],
    ["arrears", R.INSUFFICIENT_BALANCE],
    ["invalid-number", R.INVALID_NUMBER],
    ["sdk-app-id", R.CONFIG_ERROR],
    ["app-disabled", R.CONFIG_ERROR],
    ["unsupported", R.CONFIG_ERROR],
    ["sensitive-word", R.BLOCKED],
    ["ip-blacklist", R.BLOCKED],
    ["upstream-error", R.PROVIDER_ERROR],
  ])("%s → rejected %s with the code and message kept", async (forced, reason) => {
    fake.failNext(forced);
    const outcome = await provider.send(request(), signal());
    const { code, message } = FORCED[forced as keyof typeof FORCED];
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
    expect(outcome.kind === "rejected" && outcome.providerText.startsWith(message.replace(/[0-9]{7,}/g, "***"))).toBe(true);
  });

  it("an upstream timeout is ambiguous: the fake placed the call anyway", async () => {
    const before = fake.calls.length;
    fake.failNext("upstream-timeout");
    expect(await provider.send(request(), signal())).toMatchObject({
      kind: "ambiguous",
      detail: expect.stringContaining("InternalError.AccessUpstreamTimeout"),
    });
    expect(fake.calls.length).toBe(before + 1);
  });

  it("a bare InternalError is ambiguous", async () => {
    fake.failNext("internal-error");
    expect(await provider.send(request(), signal())).toMatchObject({ kind: "ambiguous" });
  });

  it.each<[TencentFakeOutcome, string | RegExp]>([
    ["server-error", "HTTP 502 with an unparseable body"],
    ["garbage-200", "HTTP 200 with an unparseable body"],
    ["reset", /ECONNRESET|socket hang up/],
  ])("%s → ambiguous", async (forced, detail) => {
    fake.failNext(forced);
    const outcome = await provider.send(request(), signal());
    expect(outcome.kind).toBe("ambiguous");
    expect(outcome.kind === "ambiguous" && outcome.detail).toMatch(detail);
  });

  it("hang → ambiguous once our timeout fires", async () => {
    fake.failNext("hang");
    expect(await provider.send(request(), AbortSignal.timeout(100))).toEqual({ kind: "ambiguous", detail: "timeout" });
  });
});

describe("tencent client: nothing reached Tencent", () => {
  it("a refused connection is rejected: no call was placed", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await sendWith({ endpoint: `http://127.0.0.1:${port}` });
    expect(outcome).toMatchObject({ kind: "rejected", reason: R.PROVIDER_ERROR, providerText: "no call was placed: ECONNREFUSED" });
  });

  it("an already-aborted signal is rejected without sending", async () => {
    const before = fake.requests.length;
    const outcome = await provider.send(request(), AbortSignal.abort());
    expect(outcome).toMatchObject({ kind: "rejected", reason: R.PROVIDER_ERROR, providerText: expect.stringMatching(/^no call was placed: /) });
    expect(fake.requests.length).toBe(before);
  });
});

describe("tencent client: classifying answers", () => {
  const response = (status: number, body: unknown) =>
    classifySendCodeVoiceResult(
      { kind: "response", status, headers: {}, body: typeof body === "string" ? body : JSON.stringify(body) },
      ["493817"],
    );
  const error = (Code: string, Message = "m") => ({ Response: { Error: { Code, Message }, RequestId: "r-1" } });

  it("reads an error envelope whatever the HTTP status", () => {
    for (const status of [200, 400, 403, 500, 503]) {
      expect(response(status, error("LimitExceeded.DeliveryFrequencyLimit"))).toEqual({
        kind: "rejected",
        reason: R.RATE_LIMITED,
        providerCode: "LimitExceeded.DeliveryFrequencyLimit",
        providerText: "m (RequestId r-1)",
        scope: "number",
      });
    }
  });

  it("masks a quoted number and code in the provider's message", () => {
    const outcome = response(200, error("InvalidParameterValue", "CalledNumber +8613711112222 / 13711112222, CodeMessage 493817 bad"));
    expect(outcome).toMatchObject({ providerText: "CalledNumber *** / ***, CodeMessage *** bad (RequestId r-1)" });
  });

  it.each([
    [400, "<html>Bad Request</html>", "rejected"],
    [404, "", "rejected"],
    [400, { unexpected: true }, "rejected"],
    [500, "<html>oops</html>", "ambiguous"],
    [200, "not json", "ambiguous"],
    [200, { Response: { RequestId: "r" } }, "ambiguous"],
    [200, { Response: { SendStatus: { CallId: "" }, RequestId: "r" } }, "ambiguous"],
    [302, "", "ambiguous"],
  ])("HTTP %i with %j → %s", (status, body, kind) => {
    const outcome = response(status, body);
    expect(outcome.kind).toBe(kind);
    if (outcome.kind === "rejected") expect(outcome.reason).toBe(R.PROVIDER_ERROR);
  });

  it("accepts a SendStatus whose SessionContext and RequestId are null: only CallId decides", () => {
    // Failing the schema on an unused field made a placed call ambiguous (stuck PENDING).
    expect(response(200, { Response: { SendStatus: { CallId: "abc", SessionContext: null }, RequestId: null } })).toEqual({
      kind: "accepted",
      providerCallId: "abc",
      providerCode: "OK",
      providerText: "accepted",
    });
  });

  it("reads an error envelope whose Message and RequestId are null", () => {
    expect(response(200, { Response: { Error: { Code: "LimitExceeded.DeliveryFrequencyLimit", Message: null }, RequestId: null } })).toEqual({
      kind: "rejected",
      reason: R.RATE_LIMITED,
      providerCode: "LimitExceeded.DeliveryFrequencyLimit",
      providerText: "",
      scope: "number",
    });
  });

  it("accepts a SendStatus even when SessionContext is missing", () => {
    expect(response(200, { Response: { SendStatus: { CallId: "abc" }, RequestId: "r" } })).toMatchObject({
      kind: "accepted",
      providerCallId: "abc",
    });
  });
});
