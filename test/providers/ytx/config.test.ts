import pino from "pino";
import { describe, expect, it } from "vitest";
import { ytxModule } from "../../../src/providers/ytx/index.js";

const FULL = {
  VOICECODE_YTX_ACCOUNT_SID: "da5c0518f05c4f939de024e94c0adb6d",
  VOICECODE_YTX_AUTH_TOKEN: "8da2aede2f51498dab04e20b1702d111",
  VOICECODE_YTX_APP_ID: "ff8080813fc70a7b013fc72312324213",
  VOICECODE_YTX_WEBHOOK_TOKEN: "ytx-webhook-secret_0123",
};

describe("ytx configure", () => {
  it("lists every variable it reads", () => {
    expect([...ytxModule.envVars].sort()).toEqual(
      [
        "VOICECODE_YTX_ACCOUNT_SID",
        "VOICECODE_YTX_APP_ID",
        "VOICECODE_YTX_AUTH_TOKEN",
        "VOICECODE_YTX_DISPLAY_NUMBER",
        "VOICECODE_YTX_ENDPOINT",
        "VOICECODE_YTX_ENVIRONMENT",
        "VOICECODE_YTX_WEBHOOK_TOKEN",
      ].sort(),
    );
    expect(ytxModule.name).toBe("ytx");
  });

  it("is absent when none of its variables is set (empty counts as unset)", () => {
    expect(ytxModule.configure({})).toEqual({ status: "absent" });
    expect(ytxModule.configure({ VOICECODE_YTX_APP_ID: "", OTHER: "x" })).toEqual({ status: "absent" });
  });

  it("is incomplete when a required variable is missing, even if only optional ones are set", () => {
    expect(ytxModule.configure({ VOICECODE_YTX_ACCOUNT_SID: FULL.VOICECODE_YTX_ACCOUNT_SID })).toEqual({
      status: "incomplete",
      missing: ["VOICECODE_YTX_AUTH_TOKEN", "VOICECODE_YTX_APP_ID", "VOICECODE_YTX_WEBHOOK_TOKEN"],
    });
    expect(ytxModule.configure({ VOICECODE_YTX_ENVIRONMENT: "sandbox" })).toMatchObject({ status: "incomplete" });
  });

  it.each([
    ["VOICECODE_YTX_WEBHOOK_TOKEN", "too-short"],
    ["VOICECODE_YTX_WEBHOOK_TOKEN", "has/slash-and-is-long-enough"],
    ["VOICECODE_YTX_ACCOUNT_SID", "da5c/0518"],
    ["VOICECODE_YTX_APP_ID", "app id"],
    ["VOICECODE_YTX_AUTH_TOKEN", "with space"],
    ["VOICECODE_YTX_ENVIRONMENT", "staging"],
    ["VOICECODE_YTX_ENDPOINT", "ftp://api.ytx.net"],
    ["VOICECODE_YTX_ENDPOINT", "http://api.ytx.net/?x=1"],
    ["VOICECODE_YTX_ENDPOINT", "not a url"],
    // It is printed in the start-up summary: no credentials in it.
    ["VOICECODE_YTX_ENDPOINT", "http://proxyuser:proxy-secret@ytx-proxy.example.com"],
    ["VOICECODE_YTX_ENDPOINT", "http://api.ytx.net/?"],
    ["VOICECODE_YTX_DISPLAY_NUMBER", "+86 571 2823"],
  ])("is invalid when %s is %j", (name, value) => {
    const setup = ytxModule.configure({ ...FULL, [name]: value });
    expect(setup.status).toBe("invalid");
    expect(setup.status === "invalid" && setup.errors.join("\n")).toContain(name);
    expect(JSON.stringify(setup)).not.toContain("proxy-secret");
  });

  it("is ready with production defaults and a summary free of secrets", () => {
    const setup = ytxModule.configure(FULL);
    if (setup.status !== "ready") throw new Error(`expected ready, got ${setup.status}`);
    expect(setup.webhookToken).toBe(FULL.VOICECODE_YTX_WEBHOOK_TOKEN);
    expect(setup.summary).toMatchObject({
      environment: "production",
      endpoint: "http://api.ytx.net",
      appId: FULL.VOICECODE_YTX_APP_ID,
      accountSid: "…db6d",
    });
    const summary = JSON.stringify(setup.summary);
    expect(summary).not.toContain(FULL.VOICECODE_YTX_AUTH_TOKEN);
    expect(summary).not.toContain(FULL.VOICECODE_YTX_WEBHOOK_TOKEN);
    expect(summary).not.toContain(FULL.VOICECODE_YTX_ACCOUNT_SID);
    const provider = setup.create({ webhookPublicUrl: undefined, logger: pino({ level: "silent" }) });
    expect(provider.name).toBe("ytx");
    expect(provider.check?.({ callId: "", phoneNumber: "+85291234567", code: "1234", playTimes: 1 })?.field).toBe("phone_number");
  });

  it("picks the sandbox host, and an endpoint override wins over the environment", () => {
    const sandbox = ytxModule.configure({ ...FULL, VOICECODE_YTX_ENVIRONMENT: "sandbox" });
    expect(sandbox.status === "ready" && sandbox.summary).toMatchObject({
      endpoint: "http://sandbox.ytx.net",
      statusPush: expect.stringContaining("no status"),
    });
    const custom = ytxModule.configure({
      ...FULL,
      VOICECODE_YTX_ENVIRONMENT: "sandbox",
      VOICECODE_YTX_ENDPOINT: "https://ytx-proxy.example.com/base/",
      VOICECODE_YTX_DISPLAY_NUMBER: "057128234805",
    });
    expect(custom.status === "ready" && custom.summary).toMatchObject({
      endpoint: "https://ytx-proxy.example.com/base",
      // dstclid is documented as not open yet: the summary must not present it as working.
      displayNumber: expect.stringMatching(/^set \(.*not open yet/),
    });
  });
});
