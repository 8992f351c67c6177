/**
 * Contract fake of Kingsoft Cloud voice (ksyun OpenAPI 2020-05-01: CallVerify, CallNotify,
 * CallIvr), written
 * from the provider's doc and independent of src/providers/kingsoft: it verifies the
 * signature with its own implementation, so a signer bug cannot pass by agreeing with
 * itself.
 *
 * API (POST / with an x-www-form-urlencoded body), checked in this order:
 *   common parameters present (MissingParameter), Timestamp form (InvalidTimestampFormat)
 *   and 15-minute window (InvalidTimestamp), Accesskey known (InvalidAccountId),
 *   SignatureMethod/Version and Signature (SignatureNotMatch 403), Service/Version/Action
 *   (NoSuchEntity 404), a forced error (failNext), then CallVerify's parameters: Mobile
 *   11 digits starting 1 (InvalidMobile), TplId a system template 100001-100005
 *   (InvalidTplId), Code 4-8 digits (InvalidVerifyCode), PlayTimes 1-2 (InvalidPlayTimes),
 *   ExtId <= 50 alphanumerics (InvalidExtId), Caller digits (InvalidParameterValue).
 *   CallNotify and CallIvr instead take TplId (one of the fake's notification templates,
 *   InvalidTplId) and TplParams, a JSON object (InvalidTplParams: not an object, a
 *   variable of the template missing, an escape character), each value at most 100
 *   characters (InvalidTplLen), no URL (TplContainUrl), the rendered text at most 180
 *   (InvalidContentLen), as the seed's CallNotify table states.
 *   Success: 200 {"CallId","ExtId","RequestId"}; errors: {"RequestId","Error":{...}}.
 *
 * A notification's report has VoiceType 2; a CallIvr report carries the key pressed in
 * PressKey: the callee's last digit, or none ("") for numbers ending 0000, the rule the
 * sandbox's README table states.
 *
 * After accepting a call it pushes the call's one status report, as a JSON array, to
 * the callback URL, re-pushing until the answer is HTTP 200 with exactly
 * {"code":0,"msg":"success"} (up to maxAttempts, doubling from retryMs). batchNext()
 * groups reports into one push; shapeReports() writes later pushes the way the doc
 * prints its example (trailing commas) and/or without some fields.
 *
 * The callee's last four digits choose the outcome, on the sandbox's endings
 * (test/fakes/outcomes.ts; KINGSOFT_FAKE_OUTCOMES below is the table, printed by `npm run
 * fake`): a FAIL report with the receipt code of the seed's table, or an API refusal.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ContractFake, FakeCall } from "./contract-fake.js";
import { FAKE_ONLY_ENDINGS as F, type FakeOutcome, type FakeOutcomeTable, OUTCOME_ENDINGS as E, outcomeFor } from "./outcomes.js";

export const KINGSOFT_FAKE_ACCESS_KEY = "AKLTfakeKingsoftTest01";
export const KINGSOFT_FAKE_SECRET_KEY = "fakeKingsoftSecretKey/0123456789+=";

/** Named forced outcomes for the next API request. */
export type KingsoftFakeFailure =
  /** 403 SignatureNotMatch even for a good signature. */
  | "auth"
  /** 400 MobileFrequencyLimit. */
  | "rate-limit"
  /** 409 FlowLimitExceeded. */
  | "flow-limit"
  /** 400 TrialTimesLimit (the doc's only quota/balance code). */
  | "balance"
  /** 500 AccountVoiceServiceUnavailable ("The Account do not call voice service"). */
  | "account"
  /** 400 InvalidMobile. */
  | "invalid-number"
  /** 400 SendVoiceFailed. */
  | "send-failed"
  /** 500 Unknow. */
  | "internal"
  /** 500 ServiceTimeout. */
  | "service-timeout"
  /** 502 with an HTML body. */
  | "server-error"
  /** 200 with a body that is not JSON. */
  | "garbage"
  /** Read the request, never answer. */
  | "hang"
  /** Read the request, then destroy the socket. */
  | "reset";

/** Any documented (or undocumented) error body. */
export interface KingsoftFakeErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message?: string;
}

export interface KingsoftFakeOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly accessKey?: string;
  readonly secretKey?: string;
  /** Delay unit before a call's report. Default 20. */
  readonly stepMs?: number;
  /** First re-push delay, doubled per attempt. Default 10. */
  readonly retryMs?: number;
  /** Pushes of one batch before giving up. Default 5. */
  readonly maxAttempts?: number;
  readonly callbackUrl?: string;
  /** The fake's clock (Timestamp window, report times). Default Date.now. */
  readonly now?: () => number;
  /** Notification templates the account has (TplId -> text). Default KINGSOFT_FAKE_TEMPLATES. */
  readonly templates?: Readonly<Record<string, string>>;
}

/** The fake account's approved notification templates. */
export const KINGSOFT_FAKE_TEMPLATES: Readonly<Record<string, string>> = {
  "200001": "您的快递{id}已到门口，确认收货请按1，改约请按2",
  "200002": "您的订单{order}今天发货",
};

/** A CallNotify or CallIvr the fake accepted. */
export interface KingsoftFakeNotification {
  readonly providerCallId: string;
  readonly action: "CallNotify" | "CallIvr";
  readonly tplId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly echo: string | undefined;
  /** The key the callee will press (CallIvr), "" for none. */
  readonly pressKey: string;
}

/** How the fake writes its status pushes; see KingsoftFake.shapeReports. */
export interface KingsoftReportShape {
  readonly printAsDoc?: boolean;
  readonly omit?: readonly string[];
}

/** One API request as received, with the error Code it got (undefined = success or transport fault). */
export interface KingsoftFakeRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly status: number | undefined;
  readonly errorCode: string | undefined;
}

/** One push attempt of a report batch. */
export interface KingsoftFakeDelivery {
  readonly body: string;
  /** HTTP status of the answer; undefined when the POST failed. */
  readonly status: number | undefined;
  readonly acked: boolean;
}

export interface KingsoftFake extends ContractFake {
  /** Forces the outcome of the next API request (queued: one entry per request). */
  failNext(failure: KingsoftFakeFailure | KingsoftFakeErrorAnswer): void;
  /** Holds the next `count` reports and pushes them together in one POST. */
  batchNext(count: number): void;
  /**
   * How later pushes are written (default: strict JSON, every field). `printAsDoc`
   * writes them the way the doc's example is printed: indented, a trailing comma after
   * each report's last member (not valid JSON). `omit` leaves those fields out of every
   * report (the doc marks none as always present).
   */
  shapeReports(shape: KingsoftReportShape): void;
  /** POSTs any body once to the callback URL, no retry; a non-string is JSON-encoded. */
  pushRaw(body: unknown): Promise<{ status: number; body: string }>;
  readonly requests: readonly KingsoftFakeRequest[];
  readonly deliveries: readonly KingsoftFakeDelivery[];
  /** Notifications (CallNotify, CallIvr) accepted, in order; `calls` has them too. */
  readonly notifications: readonly KingsoftFakeNotification[];
}

const NOTIFY_ACTIONS = new Set(["CallNotify", "CallIvr"]);
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/|www\.|\.(com|cn|net|org)\b/i;

/** The key a CallIvr callee presses: the number's last digit; none for numbers ending 0000. */
export function kingsoftFakePressKey(mobile: string): string {
  return mobile.endsWith("0000") ? "" : mobile.slice(-1);
}

const SYSTEM_TEMPLATES = new Set(["100001", "100002", "100003", "100004", "100005"]);
const COMMON = [
  "Accesskey",
  "Service",
  "Action",
  "Version",
  "Timestamp",
  "SignatureVersion",
  "SignatureMethod",
  "Signature",
] as const;
const WINDOW_MS = 15 * 60 * 1000;
const BEIJING_MS = 8 * 60 * 60 * 1000;

const FAILURES: Record<Exclude<KingsoftFakeFailure, "server-error" | "garbage" | "hang" | "reset">, KingsoftFakeErrorAnswer> = {
  auth: { status: 403, code: "SignatureNotMatch", message: "The request signature we calculated does not match" },
  "rate-limit": { status: 400, code: "MobileFrequencyLimit", message: "Mobile frequency limit exceeded" },
  "flow-limit": { status: 409, code: "FlowLimitExceeded", message: "Flow limit exceeded" },
  balance: { status: 400, code: "TrialTimesLimit", message: "Trial times used up" },
  account: { status: 500, code: "AccountVoiceServiceUnavailable", message: "The Account do not call voice service" },
  "invalid-number": { status: 400, code: "InvalidMobile", message: "Invalid mobile" },
  "send-failed": { status: 400, code: "SendVoiceFailed", message: "Send voice failed" },
  internal: { status: 500, code: "Unknow", message: "Unknown error" },
  "service-timeout": { status: 500, code: "ServiceTimeout", message: "Inner service timeout" },
};

interface Outcome {
  readonly status: "SUCCESS" | "FAIL";
  readonly errCode: string | number;
  readonly errDesc: string;
}

/** "lose-answer": the call is placed and reported, but the API answer never arrives. */
const SCENARIOS: Readonly<Record<string, Outcome | KingsoftFakeErrorAnswer | "lose-answer">> = {
  [E.busy]: { status: "FAIL", errCode: "DH:0001", errDesc: "被叫忙" },
  [E.noAnswer]: { status: "FAIL", errCode: "DH:0004", errDesc: "有振铃，无人接听" },
  [E.invalidNumber]: { status: "FAIL", errCode: "DH:0002", errDesc: "被叫空号" },
  [E.poweredOff]: { status: "FAIL", errCode: "DH:0018", errDesc: "被叫关机" },
  // The seed's own example pairing: the catch-all 480 with ErrDesc 用户拒接.
  [E.rejected]: { status: "FAIL", errCode: 480, errDesc: "用户拒接" },
  [E.unreachable]: { status: "FAIL", errCode: "DH:0020", errDesc: "被叫不在服务区" },
  [E.rateLimited]: FAILURES["rate-limit"],
  [E.insufficientBalance]: FAILURES.balance,
  [E.answerLost]: "lose-answer",
  [F.suspended]: { status: "FAIL", errCode: "DH:0019", errDesc: "被叫停机" },
  [F.blocked]: { status: "FAIL", errCode: "DH:0010", errDesc: "号码为黑名单" },
  // A catch-all code whose ErrDesc names one cause (the seed pairs 480 with several).
  [F.noAnswerNumericCode]: { status: "FAIL", errCode: 480, errDesc: "有振铃，无人接听" },
};

const reported = (ending: string): string => {
  const o = SCENARIOS[ending];
  return typeof o === "object" && "errCode" in o ? `report FAIL ${o.errCode} ${o.errDesc}` : "";
};
const failed = (ending: string, name: string, failureReason: FakeOutcome["failureReason"]): FakeOutcome => ({
  name,
  send: "accepted",
  finalState: "FAILED",
  failureReason,
  does: reported(ending),
});

/** What the fake does by the callee's last four digits (see test/fakes/outcomes.ts). */
export const KINGSOFT_FAKE_OUTCOMES: FakeOutcomeTable = {
  [E.busy]: failed(E.busy, "busy", "BUSY"),
  [E.noAnswer]: failed(E.noAnswer, "no answer", "NO_ANSWER"),
  [E.invalidNumber]: failed(E.invalidNumber, "invalid number", "INVALID_NUMBER"),
  [E.poweredOff]: failed(E.poweredOff, "powered off", "POWERED_OFF"),
  [E.rejected]: failed(E.rejected, "rejected", "REJECTED"),
  [E.unreachable]: failed(E.unreachable, "unreachable", "UNREACHABLE"),
  [E.rateLimited]: { name: "rate limited", send: "rejected", finalState: "FAILED", failureReason: "RATE_LIMITED", does: "API: 400 MobileFrequencyLimit" },
  [E.insufficientBalance]: { name: "insufficient balance", send: "rejected", finalState: "FAILED", failureReason: "INSUFFICIENT_BALANCE", does: "API: 400 TrialTimesLimit" },
  [E.answerLost]: {
    name: "answer lost",
    send: "ambiguous",
    finalState: "COMPLETED",
    failureReason: "UNSPECIFIED",
    does: "places the call, resets the connection instead of answering; then report SUCCESS (ExtId echoes our call id)",
  },
  [F.suspended]: failed(F.suspended, "suspended", "SUSPENDED"),
  [F.blocked]: failed(F.blocked, "blocked", "BLOCKED"),
  [F.noAnswerNumericCode]: failed(F.noAnswerNumericCode, "no answer (numeric code)", "NO_ANSWER"),
  other: { name: "completed", send: "accepted", finalState: "COMPLETED", failureReason: "UNSPECIFIED", does: "report SUCCESS with AnswerTime" },
};
const SUCCESS: Outcome = { status: "SUCCESS", errCode: "SUCCESS", errDesc: "发送成功" };

/** RFC 3986 encoding built on encodeURIComponent, which leaves !'()* literal. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The fake's own check of a decoded parameter set: sorted, re-encoded, HMAC-SHA256 hex
 * compared in constant time.
 */
export function kingsoftFakeSignatureValid(params: ReadonlyMap<string, string>, secretKey: string): boolean {
  const presented = params.get("Signature") ?? "";
  const canonical = [...params.entries()]
    .filter(([key]) => key !== "Signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${rfc3986(key)}=${rfc3986(value)}`)
    .join("&");
  const expected = Buffer.from(createHmac("sha256", secretKey).update(canonical).digest("hex"));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Decodes a form body the way the provider would; undefined when a name repeats. */
export function kingsoftFakeParseForm(body: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (params.has(key)) return undefined;
    params.set(key, value);
  }
  return params;
}

function beijing(ms: number): string {
  return new Date(ms + BEIJING_MS).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * A batch written as the doc's example is (语音HTTP批量推送状态报告): one member per line,
 * a comma after every member of a report, the last one included.
 */
export function printLikeKingsoftDoc(reports: readonly object[]): string {
  const printed = reports.map(
    (report) => `    {\n${Object.entries(report).map(([k, v]) => `        ${JSON.stringify(k)}: ${JSON.stringify(v)},`).join("\n")}\n    }`,
  );
  return `[\n${printed.join(",\n")}\n]`;
}

function isAck(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    const json = JSON.parse(body) as { code?: unknown; msg?: unknown };
    return json.code === 0 && json.msg === "success";
  } catch {
    return false;
  }
}

export async function startKingsoftFake(options: KingsoftFakeOptions = {}): Promise<KingsoftFake> {
  const accessKey = options.accessKey ?? KINGSOFT_FAKE_ACCESS_KEY;
  const secretKey = options.secretKey ?? KINGSOFT_FAKE_SECRET_KEY;
  const stepMs = options.stepMs ?? 20;
  const retryMs = options.retryMs ?? 10;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const now = options.now ?? Date.now;
  const templates = options.templates ?? KINGSOFT_FAKE_TEMPLATES;
  const notifications: KingsoftFakeNotification[] = [];

  let callbackUrl = options.callbackUrl;
  const calls: FakeCall[] = [];
  const requests: KingsoftFakeRequest[] = [];
  const deliveries: KingsoftFakeDelivery[] = [];
  const forced: (KingsoftFakeFailure | KingsoftFakeErrorAnswer)[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const cancel = new AbortController();
  let held: object[] = [];
  let shape: KingsoftReportShape = {};
  let holdCount = 0;
  let pending = 0;
  let waiters: (() => void)[] = [];
  let closed = false;
  let sequence = 0;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const wake = (): void => {
    if (pending > 0 && !closed) return;
    const woken = waiters;
    waiters = [];
    for (const w of woken) w();
  };

  const post = async (body: string): Promise<{ status: number; body: string }> => {
    if (callbackUrl === undefined) throw new Error("kingsoft fake: no callback URL set");
    const response = await fetch(callbackUrl, {
      method: "POST",
      headers: { "content-type": "application/json;charset=UTF-8" },
      body,
      signal: AbortSignal.any([cancel.signal, AbortSignal.timeout(5000)]),
    });
    return { status: response.status, body: await response.text() };
  };

  const attempt = async (body: string, size: number, n: number): Promise<void> => {
    if (closed) return;
    let status: number | undefined;
    let acked = false;
    try {
      const answer = await post(body);
      status = answer.status;
      acked = isAck(answer.status, answer.body);
    } catch {
      // Counted as not acknowledged: re-pushed like any other failure.
    }
    if (closed) return;
    deliveries.push({ body, status, acked });
    if (!acked && n < maxAttempts) {
      later(retryMs * 2 ** (n - 1), () => void attempt(body, size, n + 1));
      return;
    }
    pending -= size;
    wake();
  };

  const deliver = (reports: object[]): void => {
    const omit = new Set(shape.omit ?? []);
    const shaped = reports.map((report) => Object.fromEntries(Object.entries(report).filter(([key]) => !omit.has(key))));
    for (let i = 0; i < shaped.length; i += 200) {
      const chunk = shaped.slice(i, i + 200);
      void attempt(shape.printAsDoc === true ? printLikeKingsoftDoc(chunk) : JSON.stringify(chunk), chunk.length, 1);
    }
  };

  const reportReady = (report: object): void => {
    if (closed) return;
    if (holdCount > 0) {
      held.push(report);
      holdCount--;
      if (holdCount > 0) return;
      const batch = held;
      held = [];
      deliver(batch);
      return;
    }
    deliver([report]);
  };

  const buildReport = (call: FakeCall, params: ReadonlyMap<string, string>, outcome: Outcome): object => {
    const start = now();
    const success = outcome.status === "SUCCESS";
    const answer = start + 3000;
    const end = answer + 6000 * call.playTimes;
    return {
      Status: outcome.status,
      EndTime: success ? beijing(end) : "",
      Duration: success ? (end - answer) / 1000 : 0,
      CallId: call.providerCallId,
      ErrCode: outcome.errCode,
      ErrDesc: outcome.errDesc,
      StartTime: beijing(start),
      AnswerTime: success ? beijing(answer) : "",
      Mobile: call.phoneNumber,
      PressKey: success && params.get("Action") === "CallIvr" ? kingsoftFakePressKey(call.phoneNumber) : "",
      ExtId: call.echo ?? "",
      Caller: params.get("Caller") ?? "",
      CallerDisplay: params.get("Caller") ?? "01086001234",
      VoiceType: NOTIFY_ACTIONS.has(params.get("Action") ?? "") ? 2 : 1,
    };
  };

  const accept = (params: Map<string, string>, res: ServerResponse): void => {
    const mobile = params.get("Mobile") ?? "";
    const chosen = SCENARIOS[outcomeFor(KINGSOFT_FAKE_OUTCOMES, mobile)] ?? SUCCESS;
    const scenario = chosen === "lose-answer" ? SUCCESS : chosen;
    if ("code" in scenario) return void answerError(res, params, scenario);
    sequence++;
    const providerCallId = `${randomBytes(5).toString("hex")}${String(now()).slice(-9)}${String(sequence).padStart(3, "0")}`;
    const call: FakeCall = {
      providerCallId,
      phoneNumber: mobile,
      code: params.get("Code") ?? "",
      playTimes: Number(params.get("PlayTimes") ?? "2"),
      echo: params.get("ExtId"),
    };
    calls.push(call);
    const action = params.get("Action");
    if (action === "CallNotify" || action === "CallIvr") {
      notifications.push({
        providerCallId,
        action,
        tplId: params.get("TplId") ?? "",
        params: JSON.parse(params.get("TplParams") ?? "{}") as Record<string, string>,
        echo: call.echo,
        pressKey: action === "CallIvr" ? kingsoftFakePressKey(mobile) : "",
      });
    }
    const report = buildReport(call, params, scenario);
    pending++;
    later(scenario.status === "SUCCESS" ? stepMs * (1 + call.playTimes) : stepMs, () => reportReady(report));
    requests.push({ params: Object.fromEntries(params), status: 200, errorCode: undefined });
    // The call is placed, but the answer never reaches the caller.
    if (chosen === "lose-answer") return void res.socket?.destroy();
    json(res, 200, { CallId: providerCallId, ExtId: call.echo ?? "", RequestId: randomUUID() });
  };

  const answerError = (res: ServerResponse, params: ReadonlyMap<string, string>, e: KingsoftFakeErrorAnswer): void => {
    requests.push({ params: Object.fromEntries(params), status: e.status, errorCode: e.code });
    json(res, e.status, {
      RequestId: randomUUID(),
      Error: { Type: e.status >= 500 ? "Receiver" : "Sender", Code: e.code, Message: e.message ?? e.code },
    });
  };

  /** The first documented refusal a request earns, or undefined when it is fine. */
  const validate = (req: IncomingMessage, params: ReadonlyMap<string, string>): KingsoftFakeErrorAnswer | undefined => {
    for (const name of COMMON) {
      if ((params.get(name) ?? "") === "") {
        return { status: 400, code: "MissingParameter", message: `输入参数 ${name}的值不能为空` };
      }
    }
    const timestamp = params.get("Timestamp") ?? "";
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
      return { status: 400, code: "InvalidTimestampFormat", message: `请求时间戳格式不合法(${timestamp})，格式：YYYY-MM-DDThh:mm:ssZ` };
    }
    if (Math.abs(now() - Date.parse(timestamp)) > WINDOW_MS) {
      return { status: 400, code: "InvalidTimestamp", message: "请保持请求时间戳在15分钟以内" };
    }
    if (params.get("Accesskey") !== accessKey) {
      return { status: 400, code: "InvalidAccountId", message: "账号错误" };
    }
    if (
      params.get("SignatureMethod") !== "HMAC-SHA256" ||
      params.get("SignatureVersion") !== "1.0" ||
      !kingsoftFakeSignatureValid(params, secretKey)
    ) {
      return { status: 403, code: "SignatureNotMatch", message: "签名不匹配" };
    }
    if (
      req.url !== "/" ||
      params.get("Service") !== "voice" ||
      params.get("Version") !== "2020-05-01" ||
      !(params.get("Action") === "CallVerify" || NOTIFY_ACTIONS.has(params.get("Action") ?? ""))
    ) {
      return { status: 404, code: "NoSuchEntity", message: "请求被拒绝，因其引用的InnerAPI不存在" };
    }
    return undefined;
  };

  const validateCallVerify = (params: ReadonlyMap<string, string>): KingsoftFakeErrorAnswer | undefined => {
    for (const name of ["Mobile", "TplId", "Code"]) {
      if ((params.get(name) ?? "") === "") {
        return { status: 400, code: "MissingParameter", message: `输入参数 ${name}的值不能为空` };
      }
    }
    if (!/^1\d{10}$/.test(params.get("Mobile") ?? "")) return { status: 400, code: "InvalidMobile", message: "手机号格式错误" };
    if (!SYSTEM_TEMPLATES.has(params.get("TplId") ?? "")) return { status: 400, code: "InvalidTplId", message: "模板ID不存在" };
    if (!/^\d{4,8}$/.test(params.get("Code") ?? "")) {
      return { status: 400, code: "InvalidVerifyCode", message: "验证码格式错误" };
    }
    const playTimes = params.get("PlayTimes");
    if (playTimes !== undefined && !/^[12]$/.test(playTimes)) {
      return { status: 400, code: "InvalidPlayTimes", message: "播放次数不合法" };
    }
    const extId = params.get("ExtId");
    if (extId !== undefined && !/^[0-9a-zA-Z]{1,50}$/.test(extId)) {
      return { status: 400, code: "InvalidExtId", message: "外部流水扩展格式错误" };
    }
    const caller = params.get("Caller");
    if (caller !== undefined && !/^\d+$/.test(caller)) {
      return { status: 400, code: "InvalidParameterValue", message: "An invalid value was supplied for Caller" };
    }
    return undefined;
  };

  /** CallNotify and CallIvr: the seed's request table, TplParams remarks included. */
  const validateNotify = (params: ReadonlyMap<string, string>): KingsoftFakeErrorAnswer | undefined => {
    for (const name of ["Mobile", "TplId", "TplParams"]) {
      if ((params.get(name) ?? "") === "") {
        return { status: 400, code: "MissingParameter", message: `输入参数 ${name}的值不能为空` };
      }
    }
    if (!/^1\d{10}$/.test(params.get("Mobile") ?? "")) return { status: 400, code: "InvalidMobile", message: "手机号格式错误" };
    const text = templates[params.get("TplId") ?? ""];
    if (text === undefined) return { status: 400, code: "InvalidTplId", message: "模板ID不存在" };
    const bad = { status: 400, code: "InvalidTplParams", message: "模板参数不存在或者错误" };
    let values: unknown;
    try {
      values = JSON.parse(params.get("TplParams") ?? "");
    } catch {
      return bad;
    }
    if (typeof values !== "object" || values === null || Array.isArray(values)) return bad;
    const given = new Map<string, string>();
    for (const [key, value] of Object.entries(values)) {
      if (typeof value !== "string" && typeof value !== "number") return bad;
      const v = String(value);
      if ([...v].some((c) => c.charCodeAt(0) < 0x20 || c === "\\")) return bad;
      if ([...v].length > 100) return { status: 400, code: "InvalidTplLen", message: "模板参数长度超限" };
      if (URL_IN_TEXT.test(v)) return { status: 400, code: "TplContainUrl", message: "模板不能有url" };
      given.set(key, v);
    }
    let missing = false;
    const rendered = text.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = given.get(name);
      if (v === undefined) missing = true;
      return v ?? "";
    });
    if (missing) return bad;
    if ([...rendered].length > 180) return { status: 400, code: "InvalidContentLen", message: "超过语音内容最大长度" };
    const extId = params.get("ExtId");
    if (extId !== undefined && !/^[0-9a-zA-Z]{1,50}$/.test(extId)) {
      return { status: 400, code: "InvalidExtId", message: "外部流水扩展格式错误" };
    }
    const caller = params.get("Caller");
    if (caller !== undefined && !/^\d+$/.test(caller)) {
      return { status: 400, code: "InvalidParameterValue", message: "An invalid value was supplied for Caller" };
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const force = forced.shift();
    if (force === "hang" || force === "reset") {
      requests.push({ params: Object.fromEntries(kingsoftFakeParseForm(text) ?? []), status: undefined, errorCode: undefined });
      // A hung request stays open until close() cuts every connection.
      if (force === "reset") req.socket.destroy();
      return;
    }
    if (force === "server-error") {
      requests.push({ params: {}, status: 502, errorCode: undefined });
      res.writeHead(502, { "content-type": "text/html" }).end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      return;
    }
    const contentType = req.headers["content-type"] ?? "";
    const params = kingsoftFakeParseForm(text);
    if (req.method !== "POST" || !contentType.startsWith("application/x-www-form-urlencoded") || params === undefined) {
      return answerError(res, params ?? new Map(), {
        status: 400,
        code: "InvalidParameterValue",
        message: "POST with an x-www-form-urlencoded body of unique parameters only",
      });
    }
    const refused = validate(req, params);
    if (refused !== undefined) return answerError(res, params, refused);
    if (force === "garbage") {
      requests.push({ params: Object.fromEntries(params), status: 200, errorCode: undefined });
      res.writeHead(200, { "content-type": "text/plain" }).end("OK");
      return;
    }
    if (force !== undefined) return answerError(res, params, typeof force === "string" ? FAILURES[force] : force);
    const invalid = NOTIFY_ACTIONS.has(params.get("Action") ?? "") ? validateNotify(params) : validateCallVerify(params);
    if (invalid !== undefined) return answerError(res, params, invalid);
    accept(params, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    provider: "kingsoft",
    outcomes: KINGSOFT_FAKE_OUTCOMES,
    url,
    env: {
      VOICECODE_KINGSOFT_ACCESS_KEY: accessKey,
      VOICECODE_KINGSOFT_SECRET_KEY: secretKey,
      VOICECODE_KINGSOFT_ENDPOINT: url,
    },
    setCallbackUrl(next) {
      callbackUrl = next;
    },
    calls,
    requests,
    deliveries,
    notifications,
    failNext(failure) {
      forced.push(failure);
    },
    batchNext(count) {
      holdCount += Math.max(0, count);
    },
    shapeReports(next) {
      shape = { ...next };
    },
    pushRaw(body) {
      return post(typeof body === "string" ? body : JSON.stringify(body));
    },
    settled() {
      if (pending === 0 || closed) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      cancel.abort(new Error("kingsoft fake closed"));
      pending = 0;
      wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
