import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { WebhookParseError, type WebhookRequest } from "../../../src/core/provider.js";
import { createRedactor } from "../../../src/providers/huawei/redact.js";
import { createHuaweiWebhook } from "../../../src/providers/huawei/webhook.js";

const webhook = createHuaweiWebhook();
const SESSION = "1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com";
const CALLEE = "+8613912340021";
const CALLER = "+862088880022";

function request(body: unknown, method = "POST"): WebhookRequest {
  return {
    method,
    headers: { "content-type": "application/json;charset=UTF-8" },
    query: new URLSearchParams(),
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  };
}

const statusPush = (eventType: string, extra: Record<string, unknown> = {}) => ({
  eventType,
  statusInfo: { sessionId: SESSION, timestamp: "2019-01-24 03:04:24", caller: CALLER, called: CALLEE, userData: "01JCALL", ...extra },
});

const feeRecord = (extra: Record<string, unknown> = {}) => ({
  direction: 0,
  spId: "sp",
  appKey: "key",
  icid: "ba171f34e6953fcd751edc77127748f4.3757289590.338833305.5",
  bindNum: CALLER,
  sessionId: SESSION,
  callerNum: CALLER,
  calleeNum: CALLEE,
  fwdDisplayNum: "",
  fwdDstNum: "",
  callEndTime: "2019-01-24 03:04:47",
  fwdUnaswRsn: 0,
  ulFailReason: 0,
  sipStatusCode: 0,
  callOutStartTime: "2019-01-24 03:04:24",
  callOutAlertingTime: "2019-01-24 03:04:26",
  callOutAnswerTime: "2019-01-24 03:04:32",
  callOutUnaswRsn: 0,
  recordFlag: 0,
  serviceType: "003",
  hostName: "callenabler245.huaweicaas.com",
  userData: "01JCALL",
  ...extra,
});

const parse = (body: unknown) => webhook.parse(request(body));

describe("huawei status pushes", () => {
  it.each([
    ["callout", CallState.DIALING],
    ["alerting", CallState.RINGING],
    ["answer", CallState.ANSWERED],
  ])("%s → %s, keyed by session and event", (eventType, state) => {
    expect(parse(statusPush(eventType))).toEqual([
      {
        dedupeKey: `${SESSION}:${eventType}`,
        providerCallId: SESSION,
        callId: "01JCALL",
        state,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: eventType,
        providerText: expect.any(String),
        occurredAtMs: Date.UTC(2019, 0, 24, 3, 4, 24),
      },
    ]);
  });

  it("disconnect with stateCode 0 completes the call", () => {
    const [event] = parse(statusPush("disconnect", { stateCode: 0, stateDesc: "The user releases the call." }));
    expect(event).toMatchObject({
      dedupeKey: `${SESSION}:disconnect`,
      state: CallState.COMPLETED,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: "0",
      providerText: "The user releases the call.",
    });
    expect(event?.provisional).toBeUndefined();
  });

  it.each([
    [8102, FailureReason.BUSY],
    [8101, FailureReason.NO_ANSWER],
    [8100, FailureReason.INVALID_NUMBER],
    [8104, FailureReason.POWERED_OFF],
    [7108, FailureReason.INSUFFICIENT_BALANCE],
    [9999, FailureReason.UNKNOWN],
  ])("disconnect with stateCode %s fails with its reason", (stateCode, reason) => {
    const [event] = parse(statusPush("disconnect", { stateCode }));
    expect(event).toMatchObject({ state: CallState.FAILED, failureReason: reason, providerCode: String(stateCode) });
    // Without a stateDesc our own table's wording stands in.
    expect(event?.providerText.length).toBeGreaterThan(0);
  });

  it.each([
    ["no stateCode", {}],
    ["a null stateCode", { stateCode: null }],
    ["an empty stateCode", { stateCode: "" }],
    ["a stateCode that is not a number", { stateCode: "busy" }],
  ])("a disconnect with %s still ends the call: FAILED UNKNOWN, provisional until the CDR tells", (_name, extra) => {
    // Huawei never re-sends a status push: refusing this one would lose the hang-up.
    const [event] = parse(statusPush("disconnect", extra));
    expect(event).toEqual({
      dedupeKey: `${SESSION}:disconnect`,
      providerCallId: SESSION,
      callId: "01JCALL",
      state: CallState.FAILED,
      failureReason: FailureReason.UNKNOWN,
      providerCode: "disconnect",
      providerText: "Hung up; no hang-up cause (stateCode) given, the CDR will tell",
      occurredAtMs: Date.UTC(2019, 0, 24, 3, 4, 24),
      provisional: true,
    });
  });

  it("keeps a disconnect's stateDesc, masked, when it comes without a stateCode", () => {
    const [event] = parse(statusPush("disconnect", { stateDesc: `The callee ${CALLEE} released the call.` }));
    expect(event).toMatchObject({ state: CallState.FAILED, provisional: true, providerText: "The callee *** released the call." });
  });

  it("reads a stateCode sent as a string", () => {
    expect(parse(statusPush("disconnect", { stateCode: "8102" }))[0]?.failureReason).toBe(FailureReason.BUSY);
  });

  it("ignores the DTMF collectInfo push", () => {
    expect(parse({ eventType: "collectInfo", statusInfo: { sessionId: SESSION, collectResult: "1" } })).toEqual([]);
  });

  it.each([
    ["two spaces", "2019-01-24  03:04:24", Date.UTC(2019, 0, 24, 3, 4, 24)],
    ["UNIX seconds", "1548299064", 1548299064000],
    ["UNIX milliseconds as a number", 1548299064123, 1548299064123],
    ["an impossible date", "2019-02-30 03:04:24", undefined],
    ["free text", "yesterday", undefined],
  ])("reads a timestamp with %s", (_name, timestamp: string | number, expected) => {
    expect(parse(statusPush("callout", { timestamp }))[0]?.occurredAtMs).toBe(expected);
  });

  it("has no call id when userData is absent or empty, and no time when timestamp is absent", () => {
    const { userData: _u, timestamp: _t, ...info } = statusPush("callout").statusInfo;
    expect(parse({ eventType: "callout", statusInfo: info })[0]).toMatchObject({ callId: undefined, occurredAtMs: undefined });
    expect(parse(statusPush("callout", { userData: "" }))[0]?.callId).toBeUndefined();
  });

  it("keeps phone numbers out of every event", () => {
    const events = [
      ...parse(statusPush("callout")),
      ...parse(statusPush("disconnect", { stateCode: 8102 })),
      ...parse({ eventType: "fee", feeLst: [feeRecord({ callOutAnswerTime: "", callOutUnaswRsn: 17 })] }),
    ];
    const text = JSON.stringify(events);
    expect(text).not.toContain("13912340021");
    expect(text).not.toContain("2088880022");
  });

  it("masks numbers quoted in stateDesc, and falls back to the table's wording when nothing is left", () => {
    const [quoted] = parse(statusPush("disconnect", { stateCode: 8102, stateDesc: `The callee ${CALLEE} is busy.` }));
    expect(quoted?.providerText).toBe("The callee *** is busy.");
    const [empty] = parse(statusPush("disconnect", { stateCode: 8102, stateDesc: "" }));
    expect(empty?.providerText).toBe("Callee busy");
  });
});

describe("huawei push texts", () => {
  it("mask the webhook token when a stateDesc quotes the push URL", () => {
    const token = "hw-push-token-0123456789";
    const url = `https://hooks.example.com/webhooks/huawei/${token}`;
    const masking = createHuaweiWebhook({ redact: createRedactor({ webhookToken: token, callbackUrl: url }) });
    const body = statusPush("disconnect", { stateCode: 8000, stateDesc: `push to ${url} (${Buffer.from(url).toString("base64")}) failed` });
    const [event] = masking.parse(request(body));
    expect(event?.providerText).toBe("push to https://hooks.example.com/webhooks/huawei/*** (***) failed");
  });
});

describe("huawei CDR pushes", () => {
  it("an answered call's CDR completes it", () => {
    expect(parse({ eventType: "fee", feeLst: [feeRecord()] })).toEqual([
      {
        dedupeKey: `${SESSION}:fee`,
        providerCallId: SESSION,
        callId: "01JCALL",
        state: CallState.COMPLETED,
        failureReason: FailureReason.UNSPECIFIED,
        providerCode: "q850:0",
        providerText: "CDR: answered",
        occurredAtMs: Date.UTC(2019, 0, 24, 3, 4, 47),
      },
    ]);
  });

  it.each([
    ["Q.850 17", { callOutUnaswRsn: 17 }, FailureReason.BUSY, "q850:17"],
    ["Q.850 19", { callOutUnaswRsn: 19 }, FailureReason.NO_ANSWER, "q850:19"],
    ["Q.850 21 as a string", { callOutUnaswRsn: "21" }, FailureReason.REJECTED, "q850:21"],
    ["Q.850 1", { callOutUnaswRsn: 1 }, FailureReason.INVALID_NUMBER, "q850:1"],
    ["SIP 486 when Q.850 says nothing", { sipStatusCode: 486 }, FailureReason.BUSY, "sip:486"],
    ["SIP 404 behind a normal-clearing Q.850", { callOutUnaswRsn: 16, sipStatusCode: 404 }, FailureReason.INVALID_NUMBER, "sip:404"],
  ])("an unanswered call's CDR with %s fails it with that precise reason", (_name, extra, reason, code) => {
    // Precise, so it refines a disconnect that came without a stateCode.
    const [event] = parse({ eventType: "fee", feeLst: [feeRecord({ callOutAnswerTime: "", ...extra })] });
    expect(event).toMatchObject({ state: CallState.FAILED, failureReason: reason, providerCode: code });
    expect(event?.provisional).toBeUndefined();
    expect(event?.providerText).toMatch(/^CDR: /);
  });

  it.each([
    ["an undocumented Q.850 cause", { callOutUnaswRsn: 99 }, "q850:99"],
    ["no cause at all", { ulFailReason: 3 }, "q850:0"],
    ["null fields", { callOutUnaswRsn: null, sipStatusCode: null }, "q850:0"],
  ])("an unanswered call's CDR with %s fails it provisionally (UNKNOWN)", (_name, extra, code) => {
    const [event] = parse({ eventType: "fee", feeLst: [feeRecord({ callOutAnswerTime: "", ...extra })] });
    expect(event).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.UNKNOWN, providerCode: code, provisional: true });
    expect(event?.providerText).toMatch(/^CDR: /);
  });

  it("gives one event per record of a merged push", () => {
    const events = parse({
      eventType: "fee",
      feeLst: [feeRecord(), feeRecord({ sessionId: "other@host", userData: undefined, callOutAnswerTime: null, callOutUnaswRsn: 17 })],
    });
    expect(events.map((e) => [e.providerCallId, e.callId, e.state])).toEqual([
      [SESSION, "01JCALL", CallState.COMPLETED],
      ["other@host", undefined, CallState.FAILED],
    ]);
    expect(new Set(events.map((e) => e.dedupeKey)).size).toBe(2);
  });
});

describe("huawei dedupe keys", () => {
  const key = (body: unknown) => parse(body)[0]?.dedupeKey;

  it("are the same for a retried push (even re-stamped) and differ between pushes", () => {
    expect(key(statusPush("alerting"))).toBe(key(statusPush("alerting", { timestamp: "2019-01-24 03:05:00" })));
    expect(key({ eventType: "fee", feeLst: [feeRecord()] })).toBe(key({ eventType: "fee", feeLst: [feeRecord()] }));
    const keys = [
      key(statusPush("callout")),
      key(statusPush("alerting")),
      key(statusPush("answer")),
      key(statusPush("disconnect", { stateCode: 0 })),
      key({ eventType: "fee", feeLst: [feeRecord()] }),
      key(statusPush("callout", { sessionId: "another-session" })),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("huawei malformed pushes", () => {
  it.each([
    ["invalid JSON", "{nope", /not valid JSON/],
    ["an empty body", "", /not valid JSON/],
    ["an array", [statusPush("callout")], /body|eventType/],
    ["no eventType", { statusInfo: statusPush("callout").statusInfo }, /eventType/],
    ["an unknown eventType", statusPush("hangup"), /eventType/],
    ["no statusInfo", { eventType: "callout" }, /statusInfo/],
    ["no sessionId", { eventType: "answer", statusInfo: { timestamp: "2019-01-24 03:04:24" } }, /sessionId/],
    ["an empty feeLst", { eventType: "fee", feeLst: [] }, /feeLst/],
    ["51 CDRs", { eventType: "fee", feeLst: Array.from({ length: 51 }, () => feeRecord()) }, /feeLst/],
    ["a CDR without sessionId", { eventType: "fee", feeLst: [feeRecord({ sessionId: undefined })] }, /sessionId/],
    ["a CDR with a text cause", { eventType: "fee", feeLst: [feeRecord({ callOutUnaswRsn: "busy" })] }, /callOutUnaswRsn/],
  ])("rejects %s", (_name, body, message) => {
    const run = () => parse(body);
    expect(run).toThrow(WebhookParseError);
    expect(run).toThrow(message);
  });

  it("never echoes the body's values (phone numbers) in the error", () => {
    try {
      parse(statusPush("hangup", { called: CALLEE }));
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("13912340021");
      expect(String(error)).not.toContain("hangup");
    }
  });

  it("rejects anything but POST", () => {
    expect(() => webhook.parse(request(statusPush("callout"), "GET"))).toThrow(WebhookParseError);
  });
});

describe("huawei replies", () => {
  it("acknowledges with HTTP 200 and Huawei's success body", () => {
    const ack = webhook.ack();
    expect(ack.status).toBe(200);
    expect(JSON.parse(ack.body)).toEqual({ resultcode: "0", resultdesc: "Success" });
    expect(ack.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("asks for a retry with a non-200 status (Huawei re-pushes CDRs)", () => {
    expect(webhook.retryLater().status).toBe(500);
  });
});
