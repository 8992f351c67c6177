import pino from "pino";
import { describe, expect, it } from "vitest";
import { KINGSOFT_DEFAULT_ENDPOINT, kingsoftModule } from "../../../src/providers/kingsoft/index.js";

const READY = {
  VOICECODE_KINGSOFT_ACCESS_KEY: "AKLTexample",
  VOICECODE_KINGSOFT_SECRET_KEY: "secret/with+symbols=",
  VOICECODE_KINGSOFT_WEBHOOK_TOKEN: "abcdefghijklmnop_-12",
};

describe("kingsoftModule.configure", () => {
  it("names its variables", () => {
    expect(kingsoftModule.name).toBe("kingsoft");
    expect([...kingsoftModule.envVars].sort()).toEqual([
      "VOICECODE_KINGSOFT_ACCESS_KEY",
      "VOICECODE_KINGSOFT_CALLER",
      "VOICECODE_KINGSOFT_ENDPOINT",
      "VOICECODE_KINGSOFT_REGION",
      "VOICECODE_KINGSOFT_SECRET_KEY",
      "VOICECODE_KINGSOFT_TEMPLATES",
      "VOICECODE_KINGSOFT_TEMPLATE_ID",
      "VOICECODE_KINGSOFT_WEBHOOK_TOKEN",
    ]);
  });

  it("is absent when nothing is set (empty strings count as unset)", () => {
    expect(kingsoftModule.configure({})).toEqual({ status: "absent" });
    expect(kingsoftModule.configure({ VOICECODE_KINGSOFT_CALLER: "" })).toEqual({ status: "absent" });
  });

  it("is incomplete and lists what is missing", () => {
    expect(kingsoftModule.configure({ VOICECODE_KINGSOFT_ENDPOINT: "http://127.0.0.1:1" })).toEqual({
      status: "incomplete",
      missing: ["VOICECODE_KINGSOFT_ACCESS_KEY", "VOICECODE_KINGSOFT_SECRET_KEY", "VOICECODE_KINGSOFT_WEBHOOK_TOKEN"],
    });
    const { VOICECODE_KINGSOFT_SECRET_KEY: _, ...noSecret } = READY;
    expect(kingsoftModule.configure(noSecret)).toEqual({ status: "incomplete", missing: ["VOICECODE_KINGSOFT_SECRET_KEY"] });
  });

  it.each([
    ["VOICECODE_KINGSOFT_WEBHOOK_TOKEN", "short"],
    ["VOICECODE_KINGSOFT_WEBHOOK_TOKEN", "has/slash/in/it/0123456"],
    ["VOICECODE_KINGSOFT_ACCESS_KEY", "AK with space"],
    ["VOICECODE_KINGSOFT_TEMPLATE_ID", "1"],
    ["VOICECODE_KINGSOFT_TEMPLATE_ID", "100006"],
    ["VOICECODE_KINGSOFT_CALLER", "+86 10 1234"],
    ["VOICECODE_KINGSOFT_REGION", "CN Beijing"],
    ["VOICECODE_KINGSOFT_ENDPOINT", "voice.api.ksyun.com"],
    ["VOICECODE_KINGSOFT_ENDPOINT", "ftp://voice.api.ksyun.com/"],
  ])("is invalid when %s is %j", (name, value) => {
    const setup = kingsoftModule.configure({ ...READY, [name]: value });
    expect(setup.status).toBe("invalid");
    if (setup.status === "invalid") expect(setup.errors.join("\n")).toContain(name);
  });

  it("is ready with defaults: production endpoint, template 100001", () => {
    const setup = kingsoftModule.configure(READY);
    if (setup.status !== "ready") throw new Error(`expected ready, got ${setup.status}`);
    expect(setup.webhookToken).toBe(READY.VOICECODE_KINGSOFT_WEBHOOK_TOKEN);
    expect(setup.summary).toEqual({ endpoint: KINGSOFT_DEFAULT_ENDPOINT, templateId: "100001" });
    expect(KINGSOFT_DEFAULT_ENDPOINT).toBe("https://voice.api.ksyun.com/");
    const provider = setup.create({ webhookPublicUrl: undefined, logger: pino({ level: "silent" }) });
    expect(provider.name).toBe("kingsoft");
  });

  it("is ready with every option, and the summary carries no secret", () => {
    const setup = kingsoftModule.configure({
      ...READY,
      VOICECODE_KINGSOFT_TEMPLATE_ID: "100005",
      VOICECODE_KINGSOFT_CALLER: "01086001234",
      VOICECODE_KINGSOFT_REGION: "cn-beijing-6",
      VOICECODE_KINGSOFT_ENDPOINT: "http://127.0.0.1:4010",
    });
    if (setup.status !== "ready") throw new Error(`expected ready, got ${setup.status}`);
    expect(setup.summary).toEqual({
      endpoint: "http://127.0.0.1:4010/",
      templateId: "100005",
      caller: "01086001234",
      region: "cn-beijing-6",
    });
    const shown = JSON.stringify(setup.summary);
    for (const secret of Object.values(READY)) expect(shown).not.toContain(secret);
  });
});
