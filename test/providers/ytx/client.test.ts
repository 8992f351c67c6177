import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailureReason } from "../../../src/core/model.js";
import type { Provider, ProviderSendRequest } from "../../../src/core/provider.js";
import { createYtxProvider, ytxModule } from "../../../src/providers/ytx/index.js";
import { type YtxFake, type YtxFakeCode, startYtxFake } from "../../fakes/ytx.js";

const live = () => new AbortController().signal;
const request = (overrides: Partial<ProviderSendRequest> = {}): ProviderSendRequest => ({
  callId: "01JCALL",
  phoneNumber: "+8613911281234",
  code: "123456",
  playTimes: 2,
  ...overrides,
});

let fake: YtxFake;
let provider: Provider;

beforeAll(async () => {
  // No callback URL: the pushes of accepted calls go nowhere, which these tests ignore.
  fake = await startYtxFake({ stepMs: 1000 });
  provider = createYtxProvider({ ...fake.credentials, endpoint: fake.url });
});
afterAll(async () => {
  await fake.close();
});

describe("ytx send, accepted", () => {
  it("places the call and returns ytx's requestId as provider call id", async () => {
    const outcome = await provider.send(request(), live());
    const call = fake.calls.at(-1);
    expect(outcome).toEqual({
      kind: "accepted",
      providerCallId: call?.providerCallId,
      providerCode: "0",
      providerText: "提交成功",
    });
    expect(call?.providerCallId).toMatch(/^\d{16}$/);
    expect(call).toMatchObject({ phoneNumber: "13911281234", code: "123456", playTimes: 2, echo: undefined });
  });

  it("sends the seed's request: path, uppercase Sign, headers and body", async () => {
    await provider.send(request({ phoneNumber: "+861012345678" }), live());
    const sent = fake.requests.at(-1);
    expect(sent?.path).toBe(`/201512/sid/${fake.credentials.accountSid}/call/CodeCallOut.wx`);
    expect(sent?.sign).toMatch(/^[0-9A-F]{32}$/);
    expect(sent?.contentType).toBe("application/json;charset=utf-8");
    expect(JSON.parse(sent?.body ?? "")).toEqual({
      action: "callOutCode",
      dst: "01012345678",
      appid: fake.credentials.appId,
      code: "123456",
      time: "2",
    });
  });

  it("sends the display number as dstclid when configured", async () => {
    const withDisplay = createYtxProvider({ ...fake.credentials, endpoint: fake.url, displayNumber: "057128234805" });
    expect((await withDisplay.send(request(), live())).kind).toBe("accepted");
    expect(JSON.parse(fake.requests.at(-1)?.body ?? "")).toMatchObject({ dstclid: "057128234805" });
  });

  it("works when configured from the fake's env through the module", async () => {
    const setup = ytxModule.configure({ ...fake.env, VOICECODE_YTX_WEBHOOK_TOKEN: "test-webhook-token-0123" });
    if (setup.status !== "ready") throw new Error(`expected ready, got ${setup.status}`);
    const configured = setup.create({ webhookPublicUrl: undefined, logger: pino({ level: "silent" }) });
    expect((await configured.send(request(), live())).kind).toBe("accepted");
  });

  it("tolerates a clock 23 hours off (ytx's 24-hour window)", async () => {
    const skewed = createYtxProvider({ ...fake.credentials, endpoint: fake.url, now: () => Date.now() - 23 * 3600_000 });
    expect((await skewed.send(request(), live())).kind).toBe("accepted");
  });
});

describe("ytx send, refused by the API", () => {
  it.each<[YtxFakeCode, FailureReason, string]>([
    ["auth", FailureReason.AUTH_ERROR, "-203"],
    ["header-auth", FailureReason.AUTH_ERROR, "-202"],
    ["unknown-account", FailureReason.AUTH_ERROR, "-200"],
    ["account-disabled", FailureReason.AUTH_ERROR, "-201"],
    ["app-verification", FailureReason.CONFIG_ERROR, "-205"],
    ["missing-parameter", FailureReason.CONFIG_ERROR, "-2"],
    ["invalid-action", FailureReason.CONFIG_ERROR, "-3"],
    ["invalid-json", FailureReason.CONFIG_ERROR, "-4"],
    ["invalid-parameter", FailureReason.CONFIG_ERROR, "-101"],
    ["invalid-number", FailureReason.INVALID_NUMBER, "-1"],
    ["illegal-number", FailureReason.INVALID_NUMBER, "-102"],
    ["insufficient-balance", FailureReason.INSUFFICIENT_BALANCE, "-204"],
    ["rate-limited", FailureReason.RATE_LIMITED, "-104"],
  ])("forced %s -> %s", async (failure, reason, code) => {
    const before = fake.calls.length;
    fake.failNext(failure);
    const outcome = await provider.send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason, providerCode: code });
    expect(outcome.kind === "rejected" && outcome.providerText.length > 0).toBe(true);
    expect(fake.calls.length).toBe(before);
  });

  it.each([
    ["a wrong auth token", { authToken: "0".repeat(32) }, FailureReason.AUTH_ERROR, "-203"],
    ["another account sid", { accountSid: "bb11bb22cc33dd44ee55ff6677889900" }, FailureReason.AUTH_ERROR, "-200"],
    ["an unknown app id", { appId: "0123456789abcdef0123456789abcdef" }, FailureReason.CONFIG_ERROR, "-205"],
    ["a clock 25 hours behind", { now: () => Date.now() - 25 * 3600_000 }, FailureReason.AUTH_ERROR, "-202"],
  ])("the fake's own checks refuse %s", async (_name, overrides, reason, code) => {
    const misconfigured = createYtxProvider({ ...fake.credentials, endpoint: fake.url, ...overrides });
    expect(await misconfigured.send(request(), live())).toMatchObject({ kind: "rejected", reason, providerCode: code });
  });

  it.each([
    ["+8613900000007", FailureReason.RATE_LIMITED, "-104"],
    ["+8613900000008", FailureReason.INSUFFICIENT_BALANCE, "-204"],
    ["+8613900000015", FailureReason.INVALID_NUMBER, "-1"],
  ])("the fake refuses %s by its last four digits", async (phoneNumber, reason, code) => {
    expect(await provider.send(request({ phoneNumber }), live())).toMatchObject({ kind: "rejected", reason, providerCode: code });
  });

  it("maps a statusCode the table does not know to UNKNOWN, keeping the raw code and text", async () => {
    fake.failNext({ body: '{"statusCode":"-999","statusMsg":"新的错误","requestId":""}' });
    expect(await provider.send(request(), live())).toEqual({
      kind: "rejected",
      reason: FailureReason.UNKNOWN,
      providerCode: "-999",
      providerText: "新的错误",
    });
  });

  it("reads a numeric statusCode and falls back to the table's text", async () => {
    fake.failNext({ body: '{"statusCode":-204}' });
    expect(await provider.send(request(), live())).toEqual({
      kind: "rejected",
      reason: FailureReason.INSUFFICIENT_BALANCE,
      providerCode: "-204",
      providerText: "账户余额不足",
    });
  });

  it("trusts a documented refusal even on a 5xx", async () => {
    fake.failNext({ status: 500, body: '{"statusCode":"-204","statusMsg":"账户余额不足","requestId":""}' });
    expect(await provider.send(request(), live())).toMatchObject({ kind: "rejected", reason: FailureReason.INSUFFICIENT_BALANCE });
  });

  it("reads a refusal whose requestId and statusMsg are null (a .NET/Java serializer's empty fields)", async () => {
    fake.failNext({ body: '{"statusCode":"-205","statusMsg":null,"requestId":null}' });
    expect(await provider.send(request(), live())).toEqual({
      kind: "rejected",
      reason: FailureReason.CONFIG_ERROR,
      providerCode: "-205",
      providerText: "应用验证失败",
    });
  });

  it("never stores the number or the code that ytx's statusMsg quotes", async () => {
    fake.failNext({ body: '{"statusCode":"-102","statusMsg":"电话号码不合法:13911281234 (+8613911281234), code 12345678","requestId":""}' });
    const outcome = await provider.send(request({ code: "12345678" }), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.INVALID_NUMBER, providerCode: "-102" });
    const text = outcome.kind === "rejected" ? outcome.providerText : "";
    expect(text).toBe("电话号码不合法:*******1234 (+*********1234), code ***");
    expect(text).not.toMatch(/5678/);

    fake.failNext({ body: '{"statusCode":"-101","statusMsg":"验证码4821不合法","requestId":""}' });
    const short = await provider.send(request({ code: "4821" }), live());
    expect(short.kind === "rejected" && short.providerText).toBe("验证码***不合法");
  });

  it("refuses a 4xx without a ytx body as PROVIDER_ERROR (nothing reached the API)", async () => {
    fake.failNext({ status: 400, body: "Bad Request" });
    expect(await provider.send(request(), live())).toMatchObject({
      kind: "rejected",
      reason: FailureReason.PROVIDER_ERROR,
      providerCode: "HTTP 400",
    });
    const wrongPath = createYtxProvider({ ...fake.credentials, endpoint: `${fake.url}/nowhere` });
    expect(await wrongPath.send(request(), live())).toMatchObject({ kind: "rejected", providerCode: "HTTP 404" });
  });
});

describe("ytx send, ambiguous", () => {
  it.each([
    ["a 502 HTML page", "server-error" as const],
    ["a 200 that is not JSON", { body: "<html>ok</html>" }],
    ["a 200 JSON without statusCode", { body: '{"ok":true}' }],
    ["statusCode 0 without requestId", { body: '{"statusCode":"0","statusMsg":"提交成功","requestId":""}' }],
    ["statusCode 0 on a 4xx", { status: 403, body: '{"statusCode":"0","requestId":"2016010000000205"}' }],
    // A generic server exception says nothing about where ytx broke: a retry elsewhere could ring twice.
    ["-100 异常错误 (exception)", "exception" as const],
    ["-100 on a 500", { status: 500, body: '{"statusCode":"-100","statusMsg":"异常错误","requestId":""}' }],
    // Refusals carry an empty requestId; one that names a request contradicts itself.
    ["a refusal code with a requestId", { body: '{"statusCode":"-204","statusMsg":"账户余额不足","requestId":"2016010000000205"}' }],
    ["an unknown code with a requestId", { body: '{"statusCode":"000000","requestId":"2016010000000205"}' }],
  ])("treats %s as ambiguous", async (_name, failure) => {
    fake.failNext(failure);
    expect((await provider.send(request(), live())).kind).toBe("ambiguous");
  });

  it("times out on a hung request", async () => {
    fake.failNext("hang");
    const outcome = await provider.send(request(), AbortSignal.timeout(100));
    expect(outcome).toEqual({ kind: "ambiguous", detail: "ytx: timeout" });
  });

  it("reports a reset after the request was sent", async () => {
    fake.failNext("reset");
    expect((await provider.send(request(), live())).kind).toBe("ambiguous");
  });
});

describe("ytx send, nothing sent", () => {
  let closedPort: number;
  beforeAll(async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    closedPort = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("refuses on a refused connection: no call was placed", async () => {
    const unreachable = createYtxProvider({ ...fake.credentials, endpoint: `http://127.0.0.1:${closedPort}` });
    const outcome = await unreachable.send(request(), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: "" });
    expect(outcome.kind === "rejected" && outcome.providerText).toMatch(/^no call was placed: ECONNREFUSED/);
  });

  it("refuses on an already aborted signal without contacting ytx", async () => {
    const before = fake.requests.length;
    const controller = new AbortController();
    controller.abort();
    const outcome = await provider.send(request(), controller.signal);
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.PROVIDER_ERROR });
    expect(fake.requests.length).toBe(before);
  });

  it("never sends a number ytx cannot call, even when check() was skipped", async () => {
    const before = fake.requests.length;
    const outcome = await provider.send(request({ phoneNumber: "+14155552671" }), live());
    expect(outcome).toMatchObject({ kind: "rejected", reason: FailureReason.INVALID_NUMBER });
    expect(fake.requests.length).toBe(before);
  });
});
