import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { WebhookParseError, type WebhookRequest } from "../../../src/core/provider.js";
import { FAILURE_CODES } from "../../../src/providers/tencent/codes.js";
import { createTencentWebhook } from "../../../src/providers/tencent/webhook.js";

const webhook = createTencentWebhook();

function request(body: unknown, method = "POST"): WebhookRequest {
  return {
    method,
    headers: { "content-type": "application/json" },
    query: new URLSearchParams(),
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  };
}

const parse = (body: unknown) => webhook.parse(request(body));

// The doc's examples, verbatim apart from the call id.
const answered = {
  voicecode_callback: {
    result: "0",
    accept_time: "1470196835",
    call_from: "075583763333",
    callid: "12582bce-403c-11eb-96b8-525400476c37",
    end_calltime: "1470196843",
    fee: "1",
    mobile: "13711112222",
    nationcode: "86",
    start_calltime: "1470196821",
  },
};
const failure = {
  voice_failure_callback: {
    call_from: "075583763333",
    callid: "12582bce-403c-11eb-96b8-525400476c37",
    failure_code: 8,
    failure_reason: "空号",
    mobile: "13711112222",
    nationcode: "86",
  },
};
const withResult = (result: string, extra: object = {}) => ({
  voicecode_callback: { ...answered.voicecode_callback, result, accept_time: "0", ...extra },
});

describe("tencent webhook: voicecode_callback", () => {
  it('turns result "0" into ANSWERED at accept_time then COMPLETED at end_calltime', () => {
    expect(parse(answered)).toEqual([
      {
        dedupeKey: "12582bce-403c-11eb-96b8-525400476c37:voicecode_callback:0:answered",
        providerCallId: "12582bce-403c-11eb-96b8-525400476c37",
        callId: undefined,
        state: CallState.ANSWERED,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: "result=0",
        providerText: "用户正常接听 (answered)",
        occurredAtMs: 1470196835000,
      },
      {
        dedupeKey: "12582bce-403c-11eb-96b8-525400476c37:voicecode_callback:0:completed",
        providerCallId: "12582bce-403c-11eb-96b8-525400476c37",
        callId: undefined,
        state: CallState.COMPLETED,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: "result=0",
        providerText: "用户正常接听 (answered)",
        occurredAtMs: 1470196843000,
      },
    ]);
  });

  it.each([
    ["1", FailureReason.NO_ANSWER],
    ["2", FailureReason.PROVIDER_ERROR],
    ["7", FailureReason.UNKNOWN],
  ])('turns result "%s" into one provisional FAILED %s', (result, reason) => {
    const events = parse(withResult(result));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      dedupeKey: `12582bce-403c-11eb-96b8-525400476c37:voicecode_callback:${result}`,
      state: CallState.FAILED,
      failureReason: reason,
      providerCode: `result=${result}`,
      provisional: true,
      occurredAtMs: 1470196843000,
    });
  });

  it("takes numbers for the string fields and treats empty or zero times as unknown", () => {
    const [event] = parse(withResult("1", { result: 1, start_calltime: 1470196821, end_calltime: "" }));
    expect(event).toMatchObject({ failureReason: FailureReason.NO_ANSWER, occurredAtMs: 1470196821000 });
    const [answeredEvent] = parse({ voicecode_callback: { ...answered.voicecode_callback, accept_time: "0" } });
    expect(answeredEvent?.occurredAtMs).toBeUndefined();
  });

  it("takes null for the times and informational fields rather than refusing the push", () => {
    // A 400 here is retried by Tencent for ever and the call's result never lands.
    const nulls = { accept_time: null, start_calltime: null, end_calltime: null, call_from: null, fee: null };
    expect(parse(withResult("1", nulls))).toMatchObject([
      { state: CallState.FAILED, failureReason: FailureReason.NO_ANSWER, occurredAtMs: undefined },
    ]);
    expect(parse({ voicecode_callback: { ...answered.voicecode_callback, ...nulls, result: "0" } }).map((e) => e.state)).toEqual([
      CallState.ANSWERED,
      CallState.COMPLETED,
    ]);
    const [failed] = parse({ voice_failure_callback: { ...failure.voice_failure_callback, failure_reason: null, call_from: null } });
    expect(failed).toMatchObject({ failureReason: FailureReason.INVALID_NUMBER, providerText: "空号" });
    expect(parse({ voicekey_callback: { callid: "x", keypress: null } })).toEqual([]);
  });

  it("never carries the callee number into an event", () => {
    const text = JSON.stringify([...parse(answered), ...parse(withResult("2")), ...parse(failure)]);
    expect(text).not.toContain("13711112222");
    const [event] = parse({ voice_failure_callback: { ...failure.voice_failure_callback, failure_reason: "空号 13711112222" } });
    expect(event?.providerText).toBe("空号 ***");
  });
});

describe("tencent webhook: voice_failure_callback", () => {
  it("gives the precise reason, not provisional", () => {
    expect(parse(failure)).toEqual([
      {
        dedupeKey: "12582bce-403c-11eb-96b8-525400476c37:voice_failure_callback:8",
        providerCallId: "12582bce-403c-11eb-96b8-525400476c37",
        callId: undefined,
        state: CallState.FAILED,
        failureReason: FailureReason.INVALID_NUMBER,
        providerCode: "failure_code=8",
        providerText: "空号",
        occurredAtMs: undefined,
      },
    ]);
  });

  it.each(Object.entries(FAILURE_CODES))("maps failure_code %s", (code, expected) => {
    const [event] = parse({ voice_failure_callback: { callid: "c", failure_code: Number(code), failure_reason: "" } });
    expect(event?.failureReason).toBe(expected.reason);
    expect(event?.provisional).not.toBe(true);
    // An empty failure_reason falls back on the doc's wording.
    expect(event?.providerText).toBe(expected.text);
  });

  it("maps an undocumented failure_code to UNKNOWN and accepts it as a digit string", () => {
    for (const code of [14, 21, "99"]) {
      const [event] = parse({ voice_failure_callback: { callid: "c", failure_code: code, failure_reason: "x" } });
      expect(event).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.UNKNOWN, providerCode: `failure_code=${code}` });
    }
  });
});

describe("tencent webhook: notification callbacks", () => {
  it("acknowledges voiceprompt_callback and voicekey_callback without events", () => {
    expect(parse({ voiceprompt_callback: { ...answered.voicecode_callback, call_from: "" } })).toEqual([]);
    expect(parse({ voicekey_callback: { call_from: "", callid: "xxxxxx", keypress: "2", mobile: "13xxxxxxxxx", nationcode: "86" } })).toEqual([]);
  });
});

describe("tencent webhook: dedupe keys", () => {
  const keys = (body: unknown) => parse(body).map((e) => e.dedupeKey);

  it("are the same for a retried push and differ between different pushes", () => {
    expect(keys(answered)).toEqual(keys(JSON.parse(JSON.stringify(answered))));
    expect(keys(failure)).toEqual(keys({ voice_failure_callback: { ...failure.voice_failure_callback } }));
    const all = [
      ...keys(answered),
      ...keys(withResult("1")),
      ...keys(withResult("2")),
      ...keys(failure),
      ...keys({ voice_failure_callback: { ...failure.voice_failure_callback, failure_code: 5 } }),
      ...keys({ voicecode_callback: { ...answered.voicecode_callback, callid: "other" } }),
    ];
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("tencent webhook: malformed bodies", () => {
  it.each([
    ["malformed JSON", "{not json", /not valid JSON/],
    ["an empty body", "", /not valid JSON/],
    ["an array", [answered], /not a JSON object/],
    ["a string", '"voicecode_callback"', /not a JSON object/],
    ["no key", {}, /exactly one top-level key/],
    ["two keys", { ...answered, ...failure }, /exactly one top-level key/],
    ["an unknown event type", { voicesms_callback: answered.voicecode_callback }, /exactly one top-level key/],
    ["a non-object payload", { voicecode_callback: "x" }, /voicecode_callback/],
    ["no callid", { voicecode_callback: { ...answered.voicecode_callback, callid: undefined } }, /voicecode_callback\.callid/],
    ["an empty callid", { voice_failure_callback: { ...failure.voice_failure_callback, callid: "" } }, /callid/],
    ["no result", { voicecode_callback: { ...answered.voicecode_callback, result: undefined } }, /result/],
    ["a non-numeric result", withResult("ok"), /result/],
    ["a bad time", { voicecode_callback: { ...answered.voicecode_callback, accept_time: "yesterday" } }, /accept_time/],
    ["no failure_code", { voice_failure_callback: { ...failure.voice_failure_callback, failure_code: undefined } }, /failure_code/],
    ["a negative failure_code", { voice_failure_callback: { ...failure.voice_failure_callback, failure_code: -1 } }, /failure_code/],
    ["a voicekey push without callid", { voicekey_callback: { keypress: "1" } }, /voicekey_callback\.callid/],
  ])("rejects %s", (_name, body, message) => {
    expect(() => parse(body)).toThrow(WebhookParseError);
    expect(() => parse(body)).toThrow(message);
  });

  it("rejects a non-POST request", () => {
    expect(() => webhook.parse(request(answered, "GET"))).toThrow(WebhookParseError);
  });
});

describe("tencent webhook replies", () => {
  it('acks with HTTP 200 {"result":0,"errmsg":"OK"}', () => {
    const ack = webhook.ack();
    expect(ack.status).toBe(200);
    expect(ack.headers["content-type"]).toMatch(/^application\/json/);
    expect(ack.body).toBe('{"result":0,"errmsg":"OK"}');
  });

  it("asks for a retry with a non-200 and a non-zero result", () => {
    const retry = webhook.retryLater();
    expect(retry.status).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(retry.body)).toMatchObject({ result: 1, errmsg: expect.any(String) });
  });
});
