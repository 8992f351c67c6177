/**
 * Kingsoft CallNotify and CallIvr: the seed's limits refused before any network call
 * with the field named, the seed's request and answer examples as vectors, and the
 * requests the contract fake (its own signature check, the seed's error answers) takes.
 */
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotifyRequestSchema } from "../../../gen/voicecode/v1/voicecode_pb.js";
import { createLocalBus } from "../../../src/bus/bus.js";
import { VoiceCodeError } from "../../../src/core/errors.js";
import { CallState, FailureReason } from "../../../src/core/model.js";
import type { ProviderNotifyRequest } from "../../../src/core/provider.js";
import { createProviderRegistry } from "../../../src/core/providers.js";
import { createVoiceCodeService } from "../../../src/core/service.js";
import { NO_LIMITS } from "../../../src/core/limits.js";
import { classifyCallVerify, createKingsoftClient } from "../../../src/providers/kingsoft/client.js";
import { readKingsoftConfig } from "../../../src/providers/kingsoft/config.js";
import { createKingsoftProvider, parseKingsoftTemplates } from "../../../src/providers/kingsoft/index.js";
import { canonicalQuery, signCanonical } from "../../../src/providers/kingsoft/signer.js";
import type { KingsoftTemplates } from "../../../src/providers/kingsoft/templates.js";
import { createSqliteStore } from "../../../src/store/sqlite/index.js";
import {
  KINGSOFT_FAKE_ACCESS_KEY,
  KINGSOFT_FAKE_SECRET_KEY,
  KINGSOFT_FAKE_TEMPLATES,
  type KingsoftFake,
  startKingsoftFake,
} from "../../fakes/kingsoft.js";
import { testKeyring } from "../../support/keyring.js";

const CALL_ID = "01JQ3Z8K6V2N4W5X7Y9A0B1C2D";
const live = () => new AbortController().signal;

function templates(value: string): KingsoftTemplates {
  const parsed = parseKingsoftTemplates(value);
  if (!("templates" in parsed)) throw new Error(parsed.problems.join("; "));
  return parsed.templates;
}

/** The fake's templates under logical names; "delivery" with its text, "shipped" without. */
const TEMPLATES = templates(
  JSON.stringify({
    delivery: { id: "200001", text: KINGSOFT_FAKE_TEMPLATES["200001"] },
    shipped: "200002",
    long: { id: "200003", text: `${"通".repeat(81)}{id}` },
  }),
);

function notifyRequest(overrides: Partial<ProviderNotifyRequest> = {}): ProviderNotifyRequest {
  return {
    callId: CALL_ID,
    phoneNumber: "+8613712345678",
    templateName: "delivery",
    templateParams: { id: "SF1234" },
    collectKeyPress: false,
    displayNumber: undefined,
    ...overrides,
  };
}

describe("kingsoft checkNotify(): the seed's limits, the field named", () => {
  const provider = createKingsoftProvider({
    endpoint: "http://127.0.0.1:9/",
    accessKey: "AK",
    secretKey: "SK",
    templateId: "100001",
    templates: TEMPLATES,
  });
  const check = (overrides: Partial<ProviderNotifyRequest>) => provider.checkNotify?.(notifyRequest(overrides));

  it("declares notifications and IVR, and accepts a request within every limit", () => {
    expect(provider.notifies).toEqual(["notification", "ivr"]);
    expect(check({})).toBeUndefined();
    expect(check({ collectKeyPress: true, templateName: "shipped", templateParams: { order: "42" } })).toBeUndefined();
    // 100 characters exactly, counted as characters (a Chinese character is one).
    expect(check({ templateName: "shipped", templateParams: { order: "货".repeat(100) } })).toBeUndefined();
  });

  it.each([
    ["a landline", { phoneNumber: "+861012345678" }, "phone_number", /mainland China mobile/],
    ["a foreign number", { phoneNumber: "+14155550123" }, "phone_number", /\(\+86\)/],
    ["an unmapped template", { templateName: "welcome" }, "template_name", /no template of that name; configured: delivery, shipped, long/],
    ["a value over 100 characters", { templateParams: { id: "x".repeat(101) } }, "template_params[id]", /at most 100 characters/],
    ["a URL", { templateParams: { id: "see https://example.org/a" } }, "template_params[id]", /URLs/],
    ["a bare domain", { templateParams: { id: "track at sf-express.com" } }, "template_params[id]", /URLs/],
    ["www.", { templateParams: { id: "www.example" } }, "template_params[id]", /URLs/],
    ["a newline", { templateParams: { id: "SF\n1234" } }, "template_params[id]", /escape characters/],
    ["a backspace", { templateParams: { id: "SF\b1234" } }, "template_params[id]", /escape characters/],
    ["a literal \\n", { templateParams: { id: "SF\\n1234" } }, "template_params[id]", /escape characters/],
    ["a variable of the text left out", { templateParams: { other: "1" } }, "template_params[id]", /required by kingsoft template "delivery"/],
    [
      "a rendered message over 180 (text known)",
      { templateName: "long", templateParams: { id: "号".repeat(100) } },
      "template_params",
      /at most 180 characters; this one has 181$/,
    ],
    [
      "values over 180 in total (text not configured)",
      { templateName: "shipped", templateParams: { order: "1".repeat(100), b: "2".repeat(81) } },
      "template_params",
      /at most 180 characters; this one has 181 in its values alone/,
    ],
  ])("refuses %s", (_what, overrides, field, problem) => {
    expect(check(overrides)).toEqual({ field, problem: expect.stringMatching(problem) });
  });

  it("says how to configure templates when there are none", () => {
    const bare = createKingsoftProvider({ endpoint: "http://127.0.0.1:9/", accessKey: "AK", secretKey: "SK", templateId: "100001" });
    expect(bare.checkNotify?.(notifyRequest())).toEqual({
      field: "template_name",
      problem: expect.stringContaining("VOICECODE_KINGSOFT_TEMPLATES"),
    });
  });

  it("never quotes a value back: it may be personal data", () => {
    const secret = "张三 13712345678 http://x.cn";
    const problem = check({ templateParams: { id: secret } });
    expect(JSON.stringify(problem)).not.toContain("13712345678");
  });
});

describe("kingsoft limits refused through Notify before any network call", () => {
  let fake: KingsoftFake;
  beforeEach(async () => {
    fake = await startKingsoftFake();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("is INVALID_ARGUMENT naming the field, and the fake saw no request", async () => {
    const store = createSqliteStore({ path: ":memory:", keyring: testKeyring() });
    const provider = createKingsoftProvider({
      endpoint: fake.url,
      accessKey: KINGSOFT_FAKE_ACCESS_KEY,
      secretKey: KINGSOFT_FAKE_SECRET_KEY,
      templateId: "100001",
      templates: TEMPLATES,
    });
    const service = createVoiceCodeService({
      store,
      bus: createLocalBus(),
      providers: createProviderRegistry([provider], "kingsoft"),
      keyring: testKeyring(),
      logger: pino({ level: "silent" }),
      limits: NO_LIMITS,
    });
    const attempt = (params: Record<string, string>) =>
      service.notify(
        create(NotifyRequestSchema, { phoneNumber: "+8613712345678", templateName: "delivery", templateParams: params }),
        live(),
        { tenant: "default" },
      );
    for (const [params, message] of [
      [{ id: "y".repeat(101) }, /^template_params\[id\]: kingsoft takes template values of at most 100/],
      [{ id: "http://a.cn" }, /^template_params\[id\]: kingsoft refuses URLs/],
      [{ id: "a\tb" }, /^template_params\[id\]: must not contain control characters/],
      [{ id: "a\\b" }, /^template_params\[id\]: kingsoft refuses escape characters/],
    ] as const) {
      const err = await attempt(params).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VoiceCodeError);
      expect(err).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(message) });
    }
    expect(fake.requests).toHaveLength(0);
    expect(await store.listOpenCalls("kingsoft", "", 10)).toEqual([]);
    // And a good one reaches the fake.
    expect((await attempt({ id: "SF1234" })).state).toBe(CallState.ACCEPTED);
    expect(fake.requests).toHaveLength(1);
    await store.close();
  });
});

describe("kingsoft CallNotify and CallIvr: the seed's examples as vectors", () => {
  it("signs a CallNotify like the seed's CallVerify sample: TplParams JSON is one RFC 3986-encoded value", () => {
    // The seed's CallNotify request example, with its TplParams form ({"code":123456}).
    const params = {
      Accesskey: "AKxxx",
      Action: "CallNotify",
      Mobile: "1xxxx",
      Service: "voice",
      SignatureMethod: "HMAC-SHA256",
      SignatureVersion: "1.0",
      Timestamp: "2020-04-15T14:58:22Z",
      TplId: "1",
      TplParams: '{"code":123456}',
      Version: "2020-05-01",
    };
    const canonical = canonicalQuery(params);
    expect(canonical).toBe(
      "Accesskey=AKxxx&Action=CallNotify&Mobile=1xxxx&Service=voice&SignatureMethod=HMAC-SHA256" +
        "&SignatureVersion=1.0&Timestamp=2020-04-15T14%3A58%3A22Z&TplId=1" +
        "&TplParams=%7B%22code%22%3A123456%7D&Version=2020-05-01",
    );
    // Computed independently: python3 -c "import hmac,hashlib;print(hmac.new(b'SKxxx', b'<canonical>', hashlib.sha256).hexdigest())"
    expect(signCanonical(canonical, "SKxxx")).toBe(SEED_NOTIFY_SIGNATURE);
  });

  it("reads the seed's success answer as accepted with its CallId", () => {
    const body = '{\n    "CallId": "fbdad845962b1586960833",\n    "ExtId": "",\n     "RequestId": "7de19b5e-0791-4269-872b-c3e05b53c3c8"\n}';
    expect(classifyCallVerify({ kind: "response", status: 200, headers: {}, body }, [])).toEqual({
      kind: "accepted",
      providerCallId: "fbdad845962b1586960833",
      providerCode: "200",
      providerText: "RequestId 7de19b5e-0791-4269-872b-c3e05b53c3c8",
    });
  });

  it("reads the seed's failure answer (AccountVoiceServiceUnavailable) as a refusal on Kingsoft's side", () => {
    const body = JSON.stringify({
      RequestId: "7e9a59c5-2e20-4aa8-bd0f-9cef8d42961f",
      Error: { Type: "server", Message: "The Account do not call voice service", Code: "AccountVoiceServiceUnavailable" },
    });
    expect(classifyCallVerify({ kind: "response", status: 500, headers: {}, body }, [])).toMatchObject({
      kind: "rejected",
      providerCode: "AccountVoiceServiceUnavailable",
      providerText: "The Account do not call voice service (RequestId 7e9a59c5-2e20-4aa8-bd0f-9cef8d42961f)",
    });
  });
});

describe("kingsoft client notify against the fake", () => {
  let fake: KingsoftFake;
  beforeEach(async () => {
    fake = await startKingsoftFake();
  });
  afterEach(async () => {
    await fake.close();
  });
  const client = (extra: { caller?: string } = {}) =>
    createKingsoftClient({
      endpoint: fake.url,
      accessKey: KINGSOFT_FAKE_ACCESS_KEY,
      secretKey: KINGSOFT_FAKE_SECRET_KEY,
      templateId: "100001",
      templates: TEMPLATES,
      ...extra,
    });

  it("CallNotify: TplId mapped from the logical name, TplParams as JSON, ExtId our call id", async () => {
    const outcome = await client({ caller: "01086001234" }).notify(notifyRequest(), live());
    expect(outcome).toMatchObject({ kind: "accepted", providerCode: "200" });
    expect(fake.requests[0]?.params).toMatchObject({
      Action: "CallNotify",
      Mobile: "13712345678",
      TplId: "200001",
      TplParams: '{"id":"SF1234"}',
      ExtId: CALL_ID,
      Caller: "01086001234",
    });
    expect(fake.requests[0]?.params).not.toHaveProperty("Code");
    expect(fake.notifications).toEqual([expect.objectContaining({ action: "CallNotify", tplId: "200001", params: { id: "SF1234" } })]);
  });

  it("CallIvr when the request collects a key press; the request's display number wins", async () => {
    const outcome = await client({ caller: "01086001234" }).notify(
      notifyRequest({ collectKeyPress: true, displayNumber: "95555" }),
      live(),
    );
    expect(outcome.kind).toBe("accepted");
    expect(fake.requests[0]?.params).toMatchObject({ Action: "CallIvr", Caller: "95555" });
  });

  it("the fake's documented refusals read as CONFIG_ERROR, values masked out of the text", async () => {
    fake.failNext({ status: 400, code: "TplContainUrl", message: "模板不能有url: SF1234" });
    const outcome = await client().notify(notifyRequest(), live());
    expect(outcome).toEqual({
      kind: "rejected",
      reason: FailureReason.CONFIG_ERROR,
      providerCode: "TplContainUrl",
      providerText: expect.not.stringContaining("SF1234"),
    });
  });

  it("the fake refuses what the seed refuses (a template id it does not have)", async () => {
    const wrong = templates("delivery=299999");
    const outcome = await createKingsoftClient({
      endpoint: fake.url,
      accessKey: KINGSOFT_FAKE_ACCESS_KEY,
      secretKey: KINGSOFT_FAKE_SECRET_KEY,
      templateId: "100001",
      templates: wrong,
    }).notify(notifyRequest(), live());
    expect(outcome).toMatchObject({ kind: "rejected", providerCode: "InvalidTplId", reason: FailureReason.CONFIG_ERROR });
  });
});

describe("VOICECODE_KINGSOFT_TEMPLATES", () => {
  const base = {
    VOICECODE_KINGSOFT_ACCESS_KEY: "AK",
    VOICECODE_KINGSOFT_SECRET_KEY: "SK",
    VOICECODE_KINGSOFT_WEBHOOK_TOKEN: "tok_0123456789abcdef",
  };
  it("reads the compact and the JSON form", () => {
    const compact = readKingsoftConfig({ ...base, VOICECODE_KINGSOFT_TEMPLATES: "delivery=100001, order_shipped=100002" });
    expect(compact.status === "ok" && [...compact.data.templates]).toEqual([
      ["delivery", { id: "100001", text: undefined }],
      ["order_shipped", { id: "100002", text: undefined }],
    ]);
    const json = readKingsoftConfig({
      ...base,
      VOICECODE_KINGSOFT_TEMPLATES: '{"delivery":{"id":"100001","text":"快递{id}到了"},"x":"7"}',
    });
    expect(json.status === "ok" && json.data.templates.get("delivery")).toEqual({ id: "100001", text: "快递{id}到了" });
  });
  it.each([
    ["delivery", /is not name=id/],
    ["delivery=abc", /numeric TplId/],
    ["a=1,a=2", /listed twice/],
    ["{bad", /not valid JSON/],
    ["bad name=1", /template name/],
  ])("refuses %s, naming the variable", (value, problem) => {
    const read = readKingsoftConfig({ ...base, VOICECODE_KINGSOFT_TEMPLATES: value });
    expect(read).toEqual({
      status: "invalid",
      errors: [expect.stringMatching(new RegExp(`^VOICECODE_KINGSOFT_TEMPLATES: .*${problem.source}`))],
    });
  });
});

const SEED_NOTIFY_SIGNATURE = "a62dde22be122d8570066bd4dbbd3fcd3c343936ca93344a9f1e7f11d471043d";
