import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { type InboundEvent, WebhookParseError, type WebhookRequest } from "../../../src/core/provider.js";
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
        // The key press, duration and times travel on the final event.
        details: {
          pressedKey: "1",
          durationSeconds: 19,
          answeredAtMs: beijing(2020, 5, 28, 18, 44, 20),
          endedAtMs: beijing(2020, 5, 28, 18, 44, 39),
        },
      },
      {
        dedupeKey: "58983af181721590663223:FAIL:480",
        providerCallId: "58983af181721590663223",
        callId: "abcdefg222",
        state: CallState.FAILED,
        // 480 lists ten causes; its ErrDesc names the one that happened (codes.ts).
        failureReason: FailureReason.REJECTED,
        providerCode: "480",
        providerText: "用户拒接",
        occurredAtMs: undefined,
        details: { durationSeconds: 0 },
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

  it("a FAIL report with DH:0007 (callee hung up after connecting) was answered: COMPLETED", () => {
    const events = parse([{ ...failed, ErrCode: "DH:0007", ErrDesc: "呼叫接通后，被叫挂机", AnswerTime: "2020-05-28 18:44:20" }]);
    expect(events.map((e) => [e.state, e.failureReason, e.providerCode])).toEqual([
      [CallState.ANSWERED, FailureReason.UNSPECIFIED, "DH:0007"],
      [CallState.COMPLETED, FailureReason.UNSPECIFIED, "DH:0007"],
    ]);
    // Connected is connected, even when the report leaves AnswerTime empty.
    expect(parse([{ ...failed, ErrCode: "DH:0007" }]).map((e) => e.state)).toEqual([CallState.COMPLETED]);
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

  it.each([
    ["malformed JSON", "[{", /not valid JSON/],
    ["an empty body", "", /not valid JSON/],
    ["a lone string", '"reports"', /\(body\)/],
    ["a lone number", "42", /\(body\)/],
    ["null", "null", /\(body\)/],
    ["a comma where a value belongs", '[{"CallId":"a",,}]', /not valid JSON/],
    ["a leading comma", '[,{"CallId":"a"}]', /not valid JSON/],
  ])("rejects %s: nothing in it reads as reports", (_name, body, message) => {
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

describe("kingsoft pushes as the doc prints them", () => {
  // The seed's (002) example push, bytes copied verbatim from the document: two reports,
  // a trailing comma after each report's last member, odd indentation, a trailing space.
  const seedBatch = readFileSync(new URL("./vectors/seed-002-status-push.txt", import.meta.url));

  it("the vector is the doc's example as printed, not valid JSON", () => {
    expect(() => JSON.parse(seedBatch.toString("utf8"))).toThrow(SyntaxError);
    expect(seedBatch.toString("utf8")).toContain('"VoiceType":2, \n    }\n]');
  });

  it("accepts the doc's example batch exactly as printed", () => {
    const events = webhook.parse({ ...request(""), body: seedBatch });
    expect(events.map((e) => [e.providerCallId, e.callId, e.state, e.failureReason, e.providerCode])).toEqual([
      ["655e08e182c11590662652", "abcdefg111", CallState.ANSWERED, FailureReason.UNSPECIFIED, "SUCCESS"],
      ["655e08e182c11590662652", "abcdefg111", CallState.COMPLETED, FailureReason.UNSPECIFIED, "SUCCESS"],
      ["58983af181721590663223", "abcdefg222", CallState.FAILED, FailureReason.REJECTED, "480"],
    ]);
    expect(events.map((e) => e.providerText)).toEqual(["发送成功", "发送成功", "用户拒接"]);
  });

  it("gives the printed batch the same events as the same batch in strict JSON", () => {
    const strict = JSON.stringify([{ ...success, ExtId: "abcdefg111", Mobile: "1xxxxxxxxxx" }, { ...failed, Mobile: "1xxxxxxxxxx", VoiceType: 2 }]);
    expect(webhook.parse({ ...request(""), body: seedBatch })).toEqual(parse(strict));
  });
});

describe("kingsoft reports that leave out what we never read", () => {
  const UNREAD = ["StartTime", "Duration", "Mobile", "PressKey", "Caller", "CallerDisplay", "VoiceType"] as const;

  it.each(UNREAD.flatMap((field) => [[field, "omitted"] as const, [field, "null"] as const]))(
    "%s %s in one report of a batch: every report is used",
    (field, how) => {
      const odd: Record<string, unknown> = { ...failed, CallId: "odd-one" };
      if (how === "omitted") delete odd[field];
      else odd[field] = null;
      const events = parse([success, odd, { ...failed, CallId: "third", ErrCode: "DH:0001" }]);
      expect(events.map((e) => [e.providerCallId, e.state])).toEqual([
        [success.CallId, CallState.ANSWERED],
        [success.CallId, CallState.COMPLETED],
        ["odd-one", CallState.FAILED],
        ["third", CallState.FAILED],
      ]);
      expect(events.some((e) => e.unreadable === true)).toBe(false);
    },
  );

  it("a report of only the fields we read is used", () => {
    const minimal = { CallId: "min", Status: "FAIL", ErrCode: "DH:0001" };
    expect(parse([minimal])).toEqual([
      {
        dedupeKey: "min:FAIL:DH:0001",
        providerCallId: "min",
        callId: undefined,
        state: CallState.FAILED,
        failureReason: FailureReason.BUSY,
        providerCode: "DH:0001",
        providerText: "",
        occurredAtMs: undefined,
      },
    ]);
  });

  it.each([
    ["an ExtId object", { ExtId: { id: 1 } }, { callId: undefined }],
    ["an ErrDesc array", { ErrDesc: ["x"] }, { providerText: "" }],
    ["a numeric EndTime", { EndTime: 1590662679 }, { occurredAtMs: undefined }],
  ])("reads past %s instead of failing the report", (_name, extra, expected) => {
    const [event] = parse([{ ...failed, ...extra }]);
    expect(event).toMatchObject({ state: CallState.FAILED, providerCallId: failed.CallId, ...expected });
  });

  it("a numeric AnswerTime still says the call was answered, at an unknown time", () => {
    const events = parse([{ ...success, AnswerTime: 1590662660 }]);
    expect(events.map((e) => [e.state, e.occurredAtMs])).toEqual([
      [CallState.ANSWERED, undefined],
      [CallState.COMPLETED, beijing(2020, 5, 28, 18, 44, 39)],
    ]);
  });
});

describe("kingsoft reports we cannot use", () => {
  const unreadable = (events: readonly InboundEvent[]) => events.filter((e) => e.unreadable === true);

  it.each([
    ["a missing CallId", { ...failed, CallId: undefined }],
    ["an empty CallId", { ...failed, CallId: "" }],
    ["a numeric CallId", { ...failed, CallId: 42 }],
    ["an unknown Status", { ...failed, Status: "DELIVERED" }],
    ["a missing Status", { ...failed, Status: undefined }],
    ["a missing ErrCode", { ...failed, ErrCode: undefined }],
    ["an ErrCode object", { ...failed, ErrCode: { code: 1 } }],
    ["a report that is not an object", "x"],
    ["a report that is an array", [failed]],
    ["a null report", null],
  ])("%s is kept for audit, matched to no call, and the good reports are used", (_name, bad) => {
    const events = parse([success, bad, { ...failed, CallId: "good-two" }]);
    expect(events.filter((e) => e.unreadable !== true).map((e) => [e.providerCallId, e.state])).toEqual([
      [success.CallId, CallState.ANSWERED],
      [success.CallId, CallState.COMPLETED],
      ["good-two", CallState.FAILED],
    ]);
    const [kept] = unreadable(events);
    expect(unreadable(events)).toHaveLength(1);
    // No ids: the store parks it and never applies it to a call.
    expect(kept).toMatchObject({
      providerCallId: "",
      callId: undefined,
      state: CallState.UNSPECIFIED,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: "unreadable",
      occurredAtMs: undefined,
    });
    expect(kept?.dedupeKey).toMatch(/^unreadable:[0-9a-f]{64}$/);
  });

  it("keeps the raw report with every number masked like maskPhone (last four digits shown)", () => {
    const bad = { ...failed, Status: "DELIVERED", Mobile: MOBILE, Caller: 13912340021, ErrDesc: `呼叫 +86${MOBILE} 失败` };
    const [kept] = unreadable(parse([bad]));
    const text = kept?.providerText ?? "";
    expect(text).toMatch(/^unreadable report \(Status: /);
    expect(text).toContain('"Mobile":"*******5678"');
    expect(text).toContain('"Caller":"*******0021"');
    expect(text).toContain("呼叫 +86*******5678 失败");
    // The ids an operator needs to ask Kingsoft about the report stay readable.
    expect(text).toContain('"CallId":"58983af181721590663223"');
    expect(text).not.toContain(MOBILE);
    expect(text).not.toContain("13912340021");
  });

  it("bounds the kept text", () => {
    const [kept] = unreadable(parse([{ ...failed, Status: "?", ErrDesc: "拒".repeat(50_000) }]));
    expect(kept?.providerText.length).toBeLessThanOrEqual(4096);
  });

  it("gives a re-pushed unusable report the same dedupe key, and different ones different keys", () => {
    const bad = { ...failed, Status: "DELIVERED" };
    const key = (report: unknown) => unreadable(parse([report]))[0]?.dedupeKey;
    expect(key(bad)).toBe(key({ ...bad }));
    expect(key(bad)).not.toBe(key({ ...bad, CallId: "another" }));
  });

  it("a batch of nothing but unusable reports is still a push to acknowledge", () => {
    expect(unreadable(parse([{ nothing: true }, 7]))).toHaveLength(2);
  });
});

describe("kingsoft push shapes around the documented array", () => {
  it("reads a lone report object as a batch of one", () => {
    expect(parse(success)).toEqual(parse([success]));
  });

  it("acknowledges an empty batch with nothing to store", () => {
    expect(parse([])).toEqual([]);
  });

  it("uses a batch longer than the documented 200 rather than bouncing it forever", () => {
    const batch = Array.from({ length: 201 }, (_, i) => ({ ...failed, CallId: `call${i}` }));
    expect(parse(batch)).toHaveLength(201);
  });
});
