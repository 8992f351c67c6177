import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { WebhookParseError, type WebhookRequest } from "../../../src/core/provider.js";
import { createSandboxWebhook } from "../../../src/providers/sandbox/webhook.js";

const webhook = createSandboxWebhook();

const valid = {
  callId: "sbx_01JABCDEF",
  userData: "01JCALLID",
  event: "ringing",
  code: "180",
  text: "Ringing",
  timestamp: "2025-03-01T08:00:01.500Z",
};

function request(body: unknown, method = "POST"): WebhookRequest {
  return {
    method,
    headers: { "content-type": "application/json" },
    query: new URLSearchParams(),
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  };
}

describe("sandbox webhook parse", () => {
  it("normalizes a progress push", () => {
    expect(webhook.parse(request(valid))).toEqual([
      {
        dedupeKey: "sbx_01JABCDEF:ringing",
        providerCallId: "sbx_01JABCDEF",
        callId: "01JCALLID",
        state: CallState.RINGING,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: "180",
        providerText: "Ringing",
        occurredAtMs: Date.parse("2025-03-01T08:00:01.500Z"),
      },
    ]);
  });

  it.each([
    ["486", FailureReason.BUSY],
    ["480", FailureReason.NO_ANSWER],
    ["404", FailureReason.INVALID_NUMBER],
    ["701", FailureReason.POWERED_OFF],
    ["603", FailureReason.REJECTED],
    ["702", FailureReason.UNREACHABLE],
    ["999", FailureReason.UNKNOWN],
  ])("maps failure code %s", (code, reason) => {
    const [event] = webhook.parse(request({ ...valid, event: "failed", code, text: "x" }));
    expect(event?.state).toBe(CallState.FAILED);
    expect(event?.failureReason).toBe(reason);
    expect(event?.providerCode).toBe(code);
  });

  it("accepts a timestamp with an offset and a push without userData", () => {
    const { userData: _omitted, ...rest } = valid;
    const [event] = webhook.parse(request({ ...rest, timestamp: "2025-03-01T16:00:01+08:00" }));
    expect(event?.callId).toBeUndefined();
    expect(event?.occurredAtMs).toBe(Date.parse("2025-03-01T08:00:01Z"));
  });

  it("gives a retried push the same dedupe key and different events different keys", () => {
    const key = (body: object) => webhook.parse(request(body))[0]?.dedupeKey;
    expect(key(valid)).toBe(key({ ...valid, timestamp: "2025-03-01T08:00:09Z" }));
    expect(key(valid)).not.toBe(key({ ...valid, event: "answered", code: "200" }));
  });

  it.each([
    ["malformed JSON", "{not json", /not valid JSON/],
    ["empty body", "", /not valid JSON/],
    ["an array", [valid], /body/],
    ["missing callId", { ...valid, callId: undefined }, /callId/],
    ["missing event", { ...valid, event: undefined }, /event/],
    ["unknown event", { ...valid, event: "hangup" }, /event/],
    ["numeric code", { ...valid, code: 180 }, /code/],
    ["bad timestamp", { ...valid, timestamp: "yesterday" }, /timestamp/],
  ])("rejects %s", (_name, body, message) => {
    const parse = () => webhook.parse(request(body));
    expect(parse).toThrow(WebhookParseError);
    expect(parse).toThrow(message);
  });

  it("rejects a non-POST request", () => {
    expect(() => webhook.parse(request(valid, "GET"))).toThrow(WebhookParseError);
  });
});

describe("sandbox webhook replies", () => {
  it("acks with 200 JSON and asks for a retry with 503 JSON", () => {
    expect(webhook.ack()).toEqual({ status: 200, headers: { "content-type": "application/json" }, body: '{"code":0,"msg":"ok"}' });
    const retry = webhook.retryLater();
    expect(retry.status).toBe(503);
    expect(JSON.parse(retry.body)).toMatchObject({ code: 1 });
  });
});
