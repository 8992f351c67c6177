import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { WebhookParseError, type WebhookRequest } from "../../../src/core/provider.js";
import { createKingsoftWebhook } from "../../../src/providers/kingsoft/webhook.js";

const webhook = createKingsoftWebhook();
const MOBILE = "13712345678";

// The doc's example push, trailing commas removed.
const success = {
  Status: "SUCCESS",
  EndTime: "2020-05-28 18:44:39",
  Duration: 19,
  CallId: "655e08e182c11590662652",
  ErrCode: "SUCCESS",
  ErrDesc: "发送成功",
  StartTime: "2020-05-28 18:44:10",
  AnswerTime: "2020-05-28 18:44:20",
  Mobile: MOBILE,
  PressKey: "1",
  ExtId: "01JQ3Z8K6V2N4W5X7Y9A0B1C2D",
  Caller: "875100000",
  CallerDisplay: "875100000",
  VoiceType: 1,
};
const failed = {
  Status: "FAIL",
  EndTime: "",
  Duration: 0,
  CallId: "58983af181721590663223",
  ErrCode: 480,
  ErrDesc: "用户拒接",
  StartTime: "2020-05-28 18:44:10",
  AnswerTime: "",
  Mobile: MOBILE,
  PressKey: "",
  ExtId: "abcdefg222",
  Caller: "875100000",
  CallerDisplay: "875100000",
  VoiceType: 2,
};

function request(body: unknown, method = "POST"): WebhookRequest {
  return {
    method,
    headers: { "content-type": "application/json;charset=UTF-8" },
    query: new URLSearchParams(),
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  };
}
const parse = (body: unknown) => webhook.parse(request(body));
/** "YYYY-MM-DD hh:mm:ss" Beijing time as epoch ms. */
const beijing = (y: number, mo: number, d: number, h: number, mi: number, s: number) =>
  Date.UTC(y, mo - 1, d, h - 8, mi, s);

describe("kingsoft webhook parse", () => {
  it("turns the doc's example batch into ANSWERED+COMPLETED and FAILED", () => {
    expect(parse([success, failed])).toEqual([
      {
        dedupeKey: "655e08e182c11590662652:answered",
        providerCallId: "655e08e182c11590662652",
        callId: "01JQ3Z8K6V2N4W5X7Y9A0B1C2D",
        state: CallState.ANSWERED,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: "SUCCESS",
        providerText: "发送成功",
        occurredAtMs: beijing(2020, 5, 28, 18, 44, 20),
      },
      {
        dedupeKey: "655e08e182c11590662652:SUCCESS:SUCCESS",
        providerCallId: "655e08e182c11590662652",
        callId: "01JQ3Z8K6V2N4W5X7Y9A0B1C2D",
        state: CallState.COMPLETED,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: "SUCCESS",
        providerText: "发送成功",
        occurredAtMs: beijing(2020, 5, 28, 18, 44, 39),
      },
      {
        dedupeKey: "58983af181721590663223:FAIL:480",
        providerCallId: "58983af181721590663223",
        callId: "abcdefg222",
        state: CallState.FAILED,
        failureReason: FailureReason.NO_ANSWER,
        providerCode: "480",
        providerText: "用户拒接",
        occurredAtMs: undefined,
      },
    ]);
  });

  it.each([
    ["DH:0001", FailureReason.BUSY],
    ["DH:0018", FailureReason.POWERED_OFF],
    ["DH:0002", FailureReason.INVALID_NUMBER],
    ["5114", FailureReason.INSUFFICIENT_BALANCE],
    ["DH:7777", FailureReason.UNKNOWN],
  ])("a FAIL report with ErrCode %s fails as %s", (code, reason) => {
    const events = parse([{ ...failed, ErrCode: code, EndTime: "2020-05-28 18:44:30" }]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      state: CallState.FAILED,
      failureReason: reason,
      providerCode: code,
      occurredAtMs: beijing(2020, 5, 28, 18, 44, 30),
    });
  });

  it("a SUCCESS report without AnswerTime only completes", () => {
    const events = parse([{ ...success, AnswerTime: "" }]);
    expect(events.map((e) => e.state)).toEqual([CallState.COMPLETED]);
  });

  it("a FAIL report with AnswerTime was answered first (hung up after connecting)", () => {
    const events = parse([{ ...failed, ErrCode: "DH:0007", ErrDesc: "呼叫接通后，被叫挂机", AnswerTime: "2020-05-28 18:44:20" }]);
    expect(events.map((e) => [e.state, e.failureReason])).toEqual([
      [CallState.ANSWERED, FailureReason.UNSPECIFIED],
      [CallState.FAILED, FailureReason.REJECTED],
    ]);
  });

  it("has no call id when ExtId is empty, null or absent", () => {
    const { ExtId: _, ...noExt } = success;
    for (const report of [{ ...success, ExtId: "" }, { ...success, ExtId: null }, noExt]) {
      expect(parse([report]).every((e) => e.callId === undefined)).toBe(true);
    }
  });

  it("never carries the callee's number into an event", () => {
    const text = JSON.stringify(parse([success, failed]));
    expect(text).not.toContain(MOBILE);
  });

  it("reads times it cannot parse as unknown instead of failing the batch", () => {
    const events = parse([{ ...success, AnswerTime: "2020-02-31 10:00:00", EndTime: "yesterday" }]);
    expect(events.map((e) => e.occurredAtMs)).toEqual([undefined, undefined]);
  });

  it("accepts the documented maximum of 200 reports in one push", () => {
    const batch = Array.from({ length: 200 }, (_, i) => ({ ...failed, CallId: `call${i}` }));
    expect(parse(batch)).toHaveLength(200);
  });

  it("gives a re-pushed report the same dedupe keys, whatever batch it comes in", () => {
    const keys = (batch: unknown[]) => parse(batch).map((e) => e.dedupeKey);
    const first = keys([success, failed]);
    expect(keys([success, failed])).toEqual(first);
    expect(keys([failed, { ...success, CallId: "other" }, success]).sort()).toEqual(
      [...first, "other:answered", "other:SUCCESS:SUCCESS"].sort(),
    );
    // The doc shows ErrCode as a number; a string form of the same code is the same report.
    expect(keys([{ ...failed, ErrCode: "480" }])).toEqual(keys([failed]));
  });

  it("gives different reports different dedupe keys", () => {
    const keys = [
      ...parse([success]),
      ...parse([{ ...success, CallId: "another" }]),
      ...parse([{ ...failed, CallId: success.CallId }]),
      ...parse([{ ...failed, ErrCode: "DH:0001" }]),
      ...parse([failed]),
    ].map((e) => e.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  const docExampleAsPrinted = `[{"Status":"SUCCESS","CallId":"655e08e182c11590662652","ErrCode":"SUCCESS","VoiceType":1,}]`;

  it.each([
    ["malformed JSON", "[{", /not valid JSON/],
    ["the doc's trailing commas", docExampleAsPrinted, /not valid JSON/],
    ["an empty body", "", /not valid JSON/],
    ["an object instead of an array", success, /\(body\)/],
    ["an empty array", [], /\(body\)/],
    ["201 reports", Array.from({ length: 201 }, () => failed), /\(body\)/],
    ["a report that is not an object", ["x"], /0/],
    ["a missing CallId", [{ ...success, CallId: undefined }], /0\.CallId/],
    ["an empty CallId", [{ ...success, CallId: "" }], /0\.CallId/],
    ["an unknown Status", [{ ...success, Status: "DELIVERED" }], /0\.Status/],
    ["a missing ErrCode", [{ ...success, ErrCode: undefined }], /0\.ErrCode/],
    ["an ErrCode object", [{ ...success, ErrCode: { code: 1 } }], /0\.ErrCode/],
    ["a numeric AnswerTime", [success, { ...failed, AnswerTime: 1590662660 }], /1\.AnswerTime/],
  ])("rejects %s", (_name, body, message) => {
    expect(() => parse(body)).toThrow(WebhookParseError);
    expect(() => parse(body)).toThrow(message);
  });

  it("accepts a report whose unread fields come in another type than the doc's example", () => {
    // The doc itself sends ErrCode as a string and then as a number: digit fields we
    // never read must not fail the batch (Kingsoft would re-push it forever).
    const variant = {
      ...failed,
      Mobile: Number(MOBILE),
      Caller: 875100000,
      CallerDisplay: null,
      PressKey: 1,
      Duration: "0",
      VoiceType: "1",
      StartTime: null,
    };
    const events = parse([success, variant]);
    expect(events.map((e) => e.state)).toEqual([CallState.ANSWERED, CallState.COMPLETED, CallState.FAILED]);
    expect(JSON.stringify(events)).not.toContain(MOBILE);
  });

  it("takes a numeric ExtId as text rather than failing the batch", () => {
    expect(parse([{ ...failed, ExtId: 12345 }])[0]?.callId).toBe("12345");
  });

  it("keeps a phone number quoted in ErrDesc out of providerText, and bounds its length", () => {
    const [event] = parse([{ ...failed, ErrDesc: `呼叫 ${MOBILE} 失败 (+86${MOBILE})` }]);
    expect(event?.providerText).toBe("呼叫 *** 失败 (***)");
    const [long] = parse([{ ...failed, ErrDesc: "拒".repeat(5000) }]);
    expect(long?.providerText).toHaveLength(512);
  });

  it("rejects a method other than POST", () => {
    expect(() => webhook.parse(request([success], "GET"))).toThrow(WebhookParseError);
  });
});

describe("kingsoft webhook replies", () => {
  it("acknowledges with exactly the documented body", () => {
    const ack = webhook.ack();
    expect(ack.status).toBe(200);
    expect(ack.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(ack.body)).toEqual({ code: 0, msg: "success" });
  });

  it("asks for a re-push with a non-2xx status and a non-zero code", () => {
    const retry = webhook.retryLater();
    expect(retry.status).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(retry.body).code).not.toBe(0);
  });
});
