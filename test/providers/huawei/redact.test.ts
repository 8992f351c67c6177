import { describe, expect, it } from "vitest";
import { callbackUrl, encodeCallbackUrl } from "../../../src/providers/huawei/callback-url.js";
import { createRedactor } from "../../../src/providers/huawei/redact.js";

const TOKEN = "hw-Token_0123456789abcdefXYZ";
const URL_ = callbackUrl("https://hooks.example.com", TOKEN);
const ENCODED = encodeCallbackUrl(URL_);
const redact = createRedactor({ webhookToken: TOKEN, callbackUrl: URL_ });

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("huawei text redaction of the webhook token", () => {
  it.each([
    ["the raw token", TOKEN],
    ["the callback URL", URL_],
    ["the URL with JSON-escaped slashes", URL_.replaceAll("/", "\\/")],
    ["the URL, URL-encoded", encodeURIComponent(URL_)],
    ["the Base64 statusUrl", ENCODED],
    ["the Base64 statusUrl, URL-encoded", encodeURIComponent(ENCODED)],
    ["the Base64 statusUrl, URL-safe alphabet", ENCODED.replaceAll("+", "-").replaceAll("/", "_")],
    ["the token alone in Base64", b64(TOKEN)],
    ["the token in Base64 after one other byte", b64(`/${TOKEN}`)],
    ["the token in Base64 after two other bytes", b64(`i/${TOKEN}`)],
    ["the token in Base64 inside another URL", b64(`http://elsewhere/x/${TOKEN}?a=1`)],
    ["a truncated quote of the Base64 statusUrl", ENCODED.slice(0, ENCODED.length - 3)],
    ["the tail of the Base64 statusUrl", ENCODED.slice(20)],
  ])("masks %s", (_name, form) => {
    const out = redact(`Invalid request. The statusUrl ${form} is invalid.`);
    expect(out).toMatch(/^Invalid request\. The statusUrl .*\*\*\*.* is invalid\.$/);
    expect(out).not.toContain(TOKEN);
    // Whatever is left of the form holds no run of the token's characters worth anything.
    for (const piece of out.match(/[A-Za-z0-9+/_-]{12,}/g) ?? []) {
      expect(ENCODED.includes(piece) || TOKEN.includes(piece) || b64(TOKEN).includes(piece), piece).toBe(false);
    }
  });

  it("still masks phone numbers and the spoken code", () => {
    expect(redact(`calleeNbr +8613800001234, verifyCode 482913, token ${TOKEN}`, ["482913"])).toBe(
      "calleeNbr ***, verifyCode ***, token ***",
    );
  });

  it("leaves texts without secrets as they are", () => {
    expect(redact("The number of calls exceeds the SP limit.")).toBe("The number of calls exceeds the SP limit.");
    expect(redact("sessionId 1200_366_0_20161228102743@callenabler.home1.com")).toBe("sessionId 1200_366_0_***@callenabler.home1.com");
  });

  it("masks the token even when no callback URL is sent (the console's URL carries it)", () => {
    const consoleOnly = createRedactor({ webhookToken: TOKEN, callbackUrl: undefined });
    expect(consoleOnly(`push to https://h.example/webhooks/huawei/${TOKEN} failed`)).toBe("push to https://h.example/webhooks/huawei/*** failed");
    expect(consoleOnly(b64(`https://h.example/webhooks/huawei/${TOKEN}`))).not.toContain(b64(TOKEN).slice(4, 20));
  });

  it("without secrets masks numbers only", () => {
    expect(createRedactor({})("call +8613800001234 to hw-Token_abcdefXYZ")).toBe("call *** to hw-Token_abcdefXYZ");
  });
});
