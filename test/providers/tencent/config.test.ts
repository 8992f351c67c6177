import pino from "pino";
import { describe, expect, it } from "vitest";
import { tencentModule } from "../../../src/providers/tencent/index.js";

const full = {
  VOICECODE_TENCENT_SECRET_ID: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
  VOICECODE_TENCENT_SECRET_KEY: "Gu5t9xGARNpq86cd98joQYCN3*******",
  VOICECODE_TENCENT_SDK_APP_ID: "1400006666",
  VOICECODE_TENCENT_WEBHOOK_TOKEN: "tc_webhook-token-0123456789",
};

describe("tencentModule.configure", () => {
  it("names itself and lists every variable it reads", () => {
    expect(tencentModule.name).toBe("tencent");
    expect([...tencentModule.envVars].sort()).toEqual(
      [
        "VOICECODE_TENCENT_ENDPOINT",
        "VOICECODE_TENCENT_REGION",
        "VOICECODE_TENCENT_SDK_APP_ID",
        "VOICECODE_TENCENT_SECRET_ID",
        "VOICECODE_TENCENT_SECRET_KEY",
        "VOICECODE_TENCENT_WEBHOOK_TOKEN",
      ].sort(),
    );
  });

  it("is absent when no variable is set (empty strings count as unset)", () => {
    expect(tencentModule.configure({})).toEqual({ status: "absent" });
    expect(tencentModule.configure({ VOICECODE_TENCENT_SECRET_ID: "", OTHER: "x" })).toEqual({ status: "absent" });
  });

  it("is incomplete and names what is missing", () => {
    expect(tencentModule.configure({ VOICECODE_TENCENT_REGION: "ap-beijing" })).toEqual({
      status: "incomplete",
      missing: [
        "VOICECODE_TENCENT_SECRET_ID",
        "VOICECODE_TENCENT_SECRET_KEY",
        "VOICECODE_TENCENT_SDK_APP_ID",
        "VOICECODE_TENCENT_WEBHOOK_TOKEN",
      ],
    });
    const { VOICECODE_TENCENT_SECRET_KEY: _key, ...rest } = full;
    expect(tencentModule.configure(rest)).toEqual({ status: "incomplete", missing: ["VOICECODE_TENCENT_SECRET_KEY"] });
  });

  it.each([
    ["VOICECODE_TENCENT_WEBHOOK_TOKEN", "short-token"],
    ["VOICECODE_TENCENT_WEBHOOK_TOKEN", "has/slash/in/the/token"],
    ["VOICECODE_TENCENT_SDK_APP_ID", "app-1400006666"],
    ["VOICECODE_TENCENT_SECRET_ID", "AKID with space"],
    ["VOICECODE_TENCENT_SECRET_KEY", "key with space"],
    ["VOICECODE_TENCENT_REGION", "Guangzhou"],
    ["VOICECODE_TENCENT_ENDPOINT", "vms.tencentcloudapi.com"],
    ["VOICECODE_TENCENT_ENDPOINT", "ftp://vms.tencentcloudapi.com"],
    ["VOICECODE_TENCENT_ENDPOINT", "https://vms.tencentcloudapi.com/?x=1"],
  ])("is invalid when %s is %j, naming the variable but not the value", (name, value) => {
    const setup = tencentModule.configure({ ...full, [name]: value });
    expect(setup.status).toBe("invalid");
    if (setup.status !== "invalid") return;
    expect(setup.errors.join("\n")).toContain(name);
    expect(setup.errors.join("\n")).not.toContain(value);
  });

  it("is ready with defaults, a non-secret summary and a working provider", () => {
    const setup = tencentModule.configure(full);
    expect(setup.status).toBe("ready");
    if (setup.status !== "ready") return;
    expect(setup.webhookToken).toBe(full.VOICECODE_TENCENT_WEBHOOK_TOKEN);
    expect(setup.summary).toEqual({ endpoint: "https://vms.tencentcloudapi.com", region: "ap-guangzhou", sdkAppId: "1400006666" });
    const summary = JSON.stringify(setup.summary);
    expect(summary).not.toContain(full.VOICECODE_TENCENT_SECRET_KEY);
    expect(summary).not.toContain(full.VOICECODE_TENCENT_SECRET_ID);
    const provider = setup.create({ webhookPublicUrl: undefined, logger: pino({ level: "silent" }) });
    expect(provider.name).toBe("tencent");
    expect(provider.webhook.ack().body).toBe('{"result":0,"errmsg":"OK"}');
  });

  it("takes a region and an endpoint override", () => {
    const setup = tencentModule.configure({
      ...full,
      VOICECODE_TENCENT_REGION: "ap-beijing",
      VOICECODE_TENCENT_ENDPOINT: "http://127.0.0.1:4000",
    });
    expect(setup).toMatchObject({ status: "ready", summary: { region: "ap-beijing", endpoint: "http://127.0.0.1:4000" } });
  });
});
