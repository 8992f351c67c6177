import type { Logger } from "pino";
import { describe, expect, it, vi } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { WebhookParseError, type WebhookRequest } from "../../../src/core/provider.js";
import { createYtxWebhook } from "../../../src/providers/ytx/webhook.js";

const webhook = createYtxWebhook();

function request(body: string | object, contentType = "application/json;charset=utf-8", method = "POST"): WebhookRequest {
  return {
    method,
    headers: { "content-type": contentType },
    query: new URLSearchParams(),
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  };
}

const parseOne = (body: string | object, contentType?: string) => {
  const events = webhook.parse(request(body, contentType));
  expect(events).toHaveLength(1);
  return events[0]!;
};

// The fake's invented push (test/fakes/ytx.ts).
const push = (state: string) => ({
  action: "codeCallStatus",
  requestId: "2025030100000001",
  state,
  dst: "13911281234",
  timestamp: "20250301160001",
});

describe("ytx webhook parse: the fake's push", () => {
  it("normalizes a progress push, masking the number but not the call id", () => {
    const event = parseOne(push("alerting"));
    expect(event).toEqual({
      dedupeKey: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      providerCallId: "2025030100000001",
      callId: undefined,
      state: CallState.RINGING,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: "alerting",
      providerText: JSON.stringify({ ...push("alerting"), dst: "*******1234" }).replace('"20250301160001"', '"**********0001"'),
      // 16:00:01 in Beijing is 08:00:01 UTC.
      occurredAtMs: Date.UTC(2025, 2, 1, 8, 0, 1),
    });
    expect(event.providerText).not.toContain("13911281234");
  });

  it.each([
    ["callout", CallState.DIALING, FailureReason.UNSPECIFIED],
    ["alerting", CallState.RINGING, FailureReason.UNSPECIFIED],
    ["answer", CallState.ANSWERED, FailureReason.UNSPECIFIED],
    ["success", CallState.COMPLETED, FailureReason.UNSPECIFIED],
    ["busy", CallState.FAILED, FailureReason.BUSY],
    ["noanswer", CallState.FAILED, FailureReason.NO_ANSWER],
    ["rejected", CallState.FAILED, FailureReason.REJECTED],
    ["poweroff", CallState.FAILED, FailureReason.POWERED_OFF],
    ["unreachable", CallState.FAILED, FailureReason.UNREACHABLE],
  ])("maps state %s", (state, expected, reason) => {
    const event = parseOne(push(state));
    expect(event.state).toBe(expected);
    expect(event.failureReason).toBe(reason);
    expect(event.provisional).toBeUndefined();
  });
});

describe("ytx webhook parse: other plausible shapes", () => {
  it("reads a form-encoded push", () => {
    const event = parseOne("requestid=2016010000000205&status=Busy&mobile=13911281234&endtime=2025-03-01+16%3A00%3A09", "application/x-www-form-urlencoded");
    expect(event).toMatchObject({
      providerCallId: "2016010000000205",
      state: CallState.FAILED,
      failureReason: FailureReason.BUSY,
      providerCode: "Busy",
      occurredAtMs: Date.UTC(2025, 2, 1, 8, 0, 9),
    });
    expect(event.providerText).toBe("requestid=2016010000000205&status=Busy&mobile=*******1234&endtime=2025-03-01+16%3A00%3A09");
  });

  it("looks one level into an envelope and understands Chinese outcomes", () => {
    const event = parseOne({ data: { call_id: "abc-1", result: "用户忙", timestamp: 1740816001 } });
    expect(event).toMatchObject({ providerCallId: "abc-1", state: CallState.FAILED, failureReason: FailureReason.BUSY, occurredAtMs: 1740816001000 });
  });

  it("prefers a precise failure over a bare 'failed', which alone is provisional", () => {
    expect(parseOne({ requestId: "r1", status: "failed", reason: "no_answer" })).toMatchObject({
      state: CallState.FAILED,
      failureReason: FailureReason.NO_ANSWER,
      providerCode: "no_answer",
    });
    const bare = parseOne({ requestId: "r1", status: "failed" });
    expect(bare).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.UNKNOWN, provisional: true });
  });

  it.each([
    ["an envelope's success around a busy call", { status: "success", data: { requestId: "r1", state: "busy" } }],
    ["a callout whose result is success", { requestId: "r1", state: "callout", result: "success" }],
    ["a failure next to a success", { requestId: "r1", result: "failed", state: "success" }],
  ])("decides no state when recognised words disagree: %s", (_name, body) => {
    // First-key-wins would complete a call that failed or was only just dialled.
    expect(parseOne(body)).toMatchObject({ providerCallId: "r1", state: CallState.ACCEPTED, failureReason: FailureReason.UNSPECIFIED });
  });

  it("keeps words that agree, and a failure whose precise reasons disagree as provisional", () => {
    expect(parseOne({ requestId: "r1", state: "busy", result: "用户忙" })).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.BUSY });
    expect(parseOne({ requestId: "r1", state: "busy", reason: "noanswer" })).toMatchObject({
      state: CallState.FAILED,
      failureReason: FailureReason.UNKNOWN,
      provisional: true,
    });
  });

  it("records a push with an unmappable status as ACCEPTED, keeping the raw status", () => {
    expect(parseOne({ requestId: "r1", statusCode: 0, state: "disconnect" })).toMatchObject({
      providerCallId: "r1",
      state: CallState.ACCEPTED,
      failureReason: FailureReason.UNSPECIFIED,
      // The first status key present wins when none maps: state before statusCode.
      providerCode: "disconnect",
      occurredAtMs: undefined,
    });
  });

  it("records a push without a recognisable id under an empty provider call id", () => {
    expect(parseOne({ phone: "13911281234", state: "success" })).toMatchObject({
      providerCallId: "",
      state: CallState.COMPLETED,
      providerText: '{"phone":"*******1234","state":"success"}',
    });
  });

  it("keeps a long numeric id exact", () => {
    expect(parseOne('{"callId":20160100000002051234,"state":"success"}').providerCallId).toBe("20160100000002051234");
  });

  it("splits an array push into events with distinct keys", () => {
    const events = webhook.parse(request([push("callout"), { ...push("busy"), requestId: "2025030100000002" }]));
    expect(events.map((e) => [e.providerCallId, e.state])).toEqual([
      ["2025030100000001", CallState.DIALING],
      ["2025030100000002", CallState.FAILED],
    ]);
    expect(events[0]?.dedupeKey).not.toBe(events[1]?.dedupeKey);
    expect(events[1]?.providerText).toContain('"requestId":"2025030100000002"');
    expect(events[1]?.providerText).not.toContain("13911281234");
  });
});

describe("ytx webhook parse: stored text", () => {
  it("never stores a verification code field", () => {
    const json = parseOne({ requestId: "r1", state: "success", code: "123456", verifyCode: 654321 });
    expect(json.providerText).toBe('{"requestId":"r1","state":"success","code":"***","verifyCode":"***"}');
    const form = parseOne("callid=r1&code=123456&state=success", "application/x-www-form-urlencoded");
    expect(form.providerText).toBe("callid=r1&code=***&state=success");
  });

  it("masks a number quoted in the status value, which is stored as providerCode", () => {
    const event = parseOne({ requestId: "r1", result: "被叫13911281234关机" });
    expect(event.providerCode).toBe("被叫*******1234关机");
    expect(JSON.stringify(event)).not.toContain("13911281234");
  });

  it("caps the stored body at 2 KiB", () => {
    const event = parseOne({ requestId: "r1", state: "success", note: "x".repeat(5000) });
    expect(event.providerText).toHaveLength(2048);
    expect(event.providerText.endsWith("…")).toBe(true);
  });
});

describe("ytx webhook parse: dedupe keys", () => {
  it("gives a retried push (same bytes) the same key and any other push another", () => {
    const body = JSON.stringify(push("answer"));
    const key = (b: string, type?: string) => parseOne(b, type).dedupeKey;
    expect(key(body)).toBe(key(body, "application/json"));
    expect(key(body)).not.toBe(key(JSON.stringify(push("success"))));
    expect(key(body)).not.toBe(key(JSON.stringify({ ...push("answer"), timestamp: "20250301160002" })));
  });

  it("keys a batched report by its content: re-batched or retried alone, it keeps its key", () => {
    const a = push("callout");
    const b = { ...push("busy"), requestId: "2025030100000002" };
    const c = { ...push("answer"), requestId: "2025030100000003" };
    const keys = (body: object) => new Map(webhook.parse(request(body)).map((e) => [e.providerText, e.dedupeKey]));
    const first = keys([a, b]);
    const second = keys([c, b, a]);
    const alone = keys(b);
    const textOf = (record: object) => parseOne(record).providerText;
    expect(second.get(textOf(a))).toBe(first.get(textOf(a)));
    expect(second.get(textOf(b))).toBe(first.get(textOf(b)));
    expect(alone.get(textOf(b))).toBe(first.get(textOf(b)));
    expect(new Set(second.values()).size).toBe(3);
  });
});

describe("ytx webhook parse: malformed", () => {
  it.each([
    ["an empty body", "", /empty/],
    ["whitespace", "  \n", /empty/],
    ["broken JSON", '{"requestId":', /not valid JSON/],
    ["a JSON string", '"success"', /neither JSON nor form/],
    ["JSON null", "null", /neither JSON nor form/],
    ["an empty array", "[]", /JSON object/],
    ["an array of numbers", "[1,2]", /JSON object/],
    ["plain text", "hello world", /neither JSON nor form/],
    ["XML", '<?xml version="1.0"?><Request><state>0</state></Request>', /neither JSON nor form/],
    ["a form pair without a key", "a=1&=2", /neither JSON nor form/],
    ["a bare word", "success", /neither JSON nor form/],
    ["bad percent-encoding", "state=%E0%A4%A", /neither JSON nor form/],
  ])("rejects %s", (_name, body, message) => {
    const parse = () => webhook.parse(request(body, "application/x-www-form-urlencoded"));
    expect(parse).toThrow(WebhookParseError);
    expect(parse).toThrow(message);
  });

  // Its own bound, not only the ingress's: 4,113 levels overflowed the stack (a RangeError,
  // answered 500 and missing from the webhook metrics).
  it.each([
    ["objects 4,113 deep", `${'{"a":'.repeat(4113)}1${"}".repeat(4113)}`],
    ["arrays 100,000 deep inside a push", `{"requestId":"1","state":"answer","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`],
    ["an array batch 65 deep", `${"[".repeat(65)}{"requestId":"1"}${"]".repeat(65)}`],
  ])("refuses JSON nested too deep (%s) as malformed", (_name, body) => {
    const parse = () => webhook.parse(request(body));
    expect(parse).toThrow(WebhookParseError);
    expect(parse).toThrow(/nested deeper than 64/);
  });

  it("reads a push nested 64 levels deep, and brackets inside strings are not nesting", () => {
    const deep = `{"requestId":"1","state":"answer","x":${"[".repeat(62)}${"]".repeat(62)}}`;
    expect(parseOne(deep).state).toBe(CallState.ANSWERED);
    expect(parseOne({ requestId: "1", state: "answer", note: "[[[[{{{{".repeat(100) }).state).toBe(CallState.ANSWERED);
  });

  it("rejects a form body labelled as JSON, JSON that is not an object, and a non-POST request", () => {
    expect(() => webhook.parse(request("state=success"))).toThrow(/not valid JSON/);
    expect(() => webhook.parse(request("null"))).toThrow(/must be a JSON object/);
    expect(() => webhook.parse(request('"success"'))).toThrow(/must be a JSON object/);
    expect(() => webhook.parse(request(push("success"), "application/json", "GET"))).toThrow(WebhookParseError);
  });
});

describe("ytx webhook logging", () => {
  it("warns about an unrecognised push with key names only", () => {
    const warn = vi.fn();
    const logger = { warn } as unknown as Logger;
    createYtxWebhook({ logger }).parse(request({ mobile: "13911281234", status: "7" }));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toEqual({ provider: "ytx", keys: ["mobile", "status"], status: "7", hasId: false });
    expect(JSON.stringify(warn.mock.calls)).not.toContain("13911281234");
  });

  it("stays quiet about a recognised push", () => {
    const warn = vi.fn();
    createYtxWebhook({ logger: { warn } as unknown as Logger }).parse(request(push("success")));
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("ytx webhook replies", () => {
  it("acks with 200 and ytx's success envelope, asks for a retry with 503", () => {
    expect(webhook.ack()).toEqual({
      status: 200,
      headers: { "content-type": "application/json;charset=utf-8" },
      body: '{"statusCode":"0","statusMsg":"success"}',
    });
    const retry = webhook.retryLater();
    expect(retry.status).toBe(503);
    expect(JSON.parse(retry.body).statusCode).not.toBe("0");
  });
});
