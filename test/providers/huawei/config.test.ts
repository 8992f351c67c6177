import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { huaweiModule } from "../../../src/providers/huawei/index.js";
import type { ProviderSetup } from "../../../src/providers/module.js";
import { type HuaweiFake, startHuaweiFake } from "../../fakes/huawei.js";

const TOKEN = "hw_webhook-token-0123456789";
const SECRET = "AppSecret-do-not-log-me";

const full = {
  VOICECODE_HUAWEI_APP_KEY: "ZRBRz4bAXoFgEH7o4Ew308eXc1RA",
  VOICECODE_HUAWEI_APP_SECRET: SECRET,
  VOICECODE_HUAWEI_ENDPOINT: "https://rtccall.cn-north-1.myhuaweicloud.cn:443/",
  VOICECODE_HUAWEI_DISPLAY_NUMBER: "+8675528888888",
  VOICECODE_HUAWEI_PRE_TONE: "welcome.wav",
  VOICECODE_HUAWEI_WEBHOOK_TOKEN: TOKEN,
};

const ready = (setup: ProviderSetup) => {
  if (setup.status !== "ready") throw new Error(`expected ready, got ${JSON.stringify(setup)}`);
  return setup;
};

const logger = pino({ level: "silent" });

describe("huawei configure()", () => {
  it("lists every variable it reads", () => {
    expect([...huaweiModule.envVars].sort()).toEqual([
      "VOICECODE_HUAWEI_APP_KEY",
      "VOICECODE_HUAWEI_APP_SECRET",
      "VOICECODE_HUAWEI_DISPLAY_NUMBER",
      "VOICECODE_HUAWEI_ENDPOINT",
      "VOICECODE_HUAWEI_POS_TONE",
      "VOICECODE_HUAWEI_PRE_TONE",
      "VOICECODE_HUAWEI_WEBHOOK_TOKEN",
    ]);
    expect(huaweiModule.name).toBe("huawei");
  });

  it("is absent when none of its variables is set (others and empty ones do not count)", () => {
    expect(huaweiModule.configure({})).toEqual({ status: "absent" });
    expect(huaweiModule.configure({ VOICECODE_TENCENT_SECRET_ID: "x", VOICECODE_HUAWEI_APP_KEY: "" })).toEqual({ status: "absent" });
  });

  it("is incomplete with the missing required variables listed", () => {
    const setup = huaweiModule.configure({ VOICECODE_HUAWEI_APP_KEY: "k", VOICECODE_HUAWEI_POS_TONE: "bye.wav" });
    expect(setup).toEqual({
      status: "incomplete",
      missing: [
        "VOICECODE_HUAWEI_APP_SECRET",
        "VOICECODE_HUAWEI_ENDPOINT",
        "VOICECODE_HUAWEI_DISPLAY_NUMBER",
        "VOICECODE_HUAWEI_PRE_TONE",
        "VOICECODE_HUAWEI_WEBHOOK_TOKEN",
      ],
    });
  });

  it.each([
    ["an endpoint that is no URL", { VOICECODE_HUAWEI_ENDPOINT: "rtccall.example.cn" }, "VOICECODE_HUAWEI_ENDPOINT"],
    ["an ftp endpoint", { VOICECODE_HUAWEI_ENDPOINT: "ftp://rtccall.example.cn" }, "VOICECODE_HUAWEI_ENDPOINT"],
    ["an endpoint with a query", { VOICECODE_HUAWEI_ENDPOINT: "https://rtccall.example.cn/?a=1" }, "VOICECODE_HUAWEI_ENDPOINT"],
    ["a display number without +", { VOICECODE_HUAWEI_DISPLAY_NUMBER: "075528888888" }, "VOICECODE_HUAWEI_DISPLAY_NUMBER"],
    ["a preTone that is no .wav", { VOICECODE_HUAWEI_PRE_TONE: "welcome.mp3" }, "VOICECODE_HUAWEI_PRE_TONE"],
    ["a posTone that is no .wav", { VOICECODE_HUAWEI_POS_TONE: "bye" }, "VOICECODE_HUAWEI_POS_TONE"],
    ["an app key with a quote", { VOICECODE_HUAWEI_APP_KEY: 'abc"def' }, "VOICECODE_HUAWEI_APP_KEY"],
    ["a secret with a space", { VOICECODE_HUAWEI_APP_SECRET: "abc def" }, "VOICECODE_HUAWEI_APP_SECRET"],
    ["a short webhook token", { VOICECODE_HUAWEI_WEBHOOK_TOKEN: "short" }, "VOICECODE_HUAWEI_WEBHOOK_TOKEN"],
    ["a webhook token with a slash", { VOICECODE_HUAWEI_WEBHOOK_TOKEN: "abcdefgh/ijklmnopq" }, "VOICECODE_HUAWEI_WEBHOOK_TOKEN"],
  ])("is invalid with %s", (_name, change, variable) => {
    const setup = huaweiModule.configure({ ...full, ...change });
    expect(setup.status).toBe("invalid");
    const errors = setup.status === "invalid" ? setup.errors : [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it("is invalid when the callback URL does not fit Huawei's 128 Base64 characters, without printing the token", () => {
    const longBase = `https://${"h".repeat(50)}.example.com`;
    const setup = huaweiModule.configure({ ...full, VOICECODE_WEBHOOK_PUBLIC_URL: longBase });
    expect(setup.status).toBe("invalid");
    const message = setup.status === "invalid" ? setup.errors.join("\n") : "";
    expect(message).toMatch(/^VOICECODE_HUAWEI_WEBHOOK_TOKEN: .*128/);
    expect(message).not.toContain(TOKEN);
    // 96 bytes of URL is exactly 128 Base64 characters: still fine.
    const base = `https://${"h".repeat(96 - 8 - `/webhooks/huawei/${TOKEN}`.length)}`;
    expect(huaweiModule.configure({ ...full, VOICECODE_WEBHOOK_PUBLIC_URL: `${base}/` }).status).toBe("ready");
  });

  it("is ready with the token and a summary free of secrets", () => {
    const setup = ready(huaweiModule.configure({ ...full, VOICECODE_WEBHOOK_PUBLIC_URL: "https://hooks.example.com/" }));
    expect(setup.webhookToken).toBe(TOKEN);
    expect(setup.summary).toMatchObject({
      endpoint: "https://rtccall.cn-north-1.myhuaweicloud.cn:443",
      appKey: "ZRBR****",
      displayNumber: "+86755****8888",
      preTone: "welcome.wav",
      callbacks: expect.stringContaining("https://hooks.example.com/webhooks/huawei/<VOICECODE_HUAWEI_WEBHOOK_TOKEN>"),
    });
    const text = JSON.stringify(setup.summary);
    for (const secret of [SECRET, TOKEN, full.VOICECODE_HUAWEI_APP_KEY, full.VOICECODE_HUAWEI_DISPLAY_NUMBER]) {
      expect(text).not.toContain(secret);
    }
  });

  it("says in the summary when no per-request callback URL will be sent", () => {
    const setup = ready(huaweiModule.configure(full));
    expect(setup.summary.callbacks).toMatch(/VOICECODE_WEBHOOK_PUBLIC_URL unset.*console/);
  });

  it("refuses to build with a public URL too long for statusUrl", () => {
    const setup = ready(huaweiModule.configure(full));
    expect(() => setup.create({ webhookPublicUrl: `https://${"h".repeat(90)}.example.com`, logger })).toThrow(/128/);
  });
});

describe("huawei module against the fake", () => {
  let fake: HuaweiFake;
  beforeAll(async () => {
    fake = await startHuaweiFake({ stepMs: 60_000 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it("builds a provider from fake.env that places calls with our callback URL", async () => {
    const setup = ready(huaweiModule.configure({ ...fake.env, VOICECODE_HUAWEI_WEBHOOK_TOKEN: TOKEN }));
    const provider = setup.create({ webhookPublicUrl: "https://hooks.example.com", logger });
    expect(provider.name).toBe("huawei");
    const outcome = await provider.send(
      { callId: "c-1", phoneNumber: "+8613800001234", code: "1234", playTimes: 1 },
      AbortSignal.timeout(2000),
    );
    expect(outcome.kind).toBe("accepted");
    expect(fake.calls.at(-1)).toMatchObject({ echo: "c-1", statusUrl: `https://hooks.example.com/webhooks/huawei/${TOKEN}` });
  });
});
