/**
 * Contract fake of Tencent Cloud VMS SendCodeVoice (API 3.0, version 2020-09-02).
 *
 * A real node:http server on 127.0.0.1 that checks what the real gateway checks, in the
 * same order: POST application/json, X-TC-Action / X-TC-Version / X-TC-Region,
 * X-TC-Timestamp within 5 minutes (AuthFailure.SignatureExpire), the TC3-HMAC-SHA256
 * Authorization (verified by its own implementation below, deliberately not the
 * adapter's signer, so the contract test is not circular; unknown SecretId →
 * AuthFailure.SecretIdNotFound, bad signature → AuthFailure.SignatureFailure), then the
 * body: JSON, no unknown fields (UnknownParameter), required fields (MissingParameter),
 * CalledNumber E.164 with "+" (InvalidParameterValue.CalledNumberVerifyFail),
 * VoiceSdkAppid known (InvalidParameterValue.SdkAppidNotExist), CodeMessage digits and
 * PlayTimes 1-3 (InvalidParameterValue). Errors come back as HTTP 200 with the
 * documented {"Response":{"Error":{"Code","Message"},"RequestId"}} envelope.
 *
 * After accepting a call it POSTs the documented callbacks to the callback URL (the URL
 * an operator enters in the VMS console), one step (`stepMs`) apart, each retried with
 * backoff until answered HTTP 200 with the documented ack {"result":0,...}. A failed
 * call gets voicecode_callback (result "1"/"2") and voice_failure_callback (precise
 * failure_code); which comes first is a control (`failureOrder`).
 *
 * The callee number's last four digits choose the outcome, on the sandbox's endings
 * (test/fakes/outcomes.ts; TENCENT_FAKE_OUTCOMES below is the table, printed by
 * `npm run fake`). Tencent has no report for a declined call: 0005 gets the bare
 * result "1" it presumably sends then, a provisional NO_ANSWER.
 *
 * `failNext(outcome)` forces the next request's answer (queued, one per request),
 * after the body is read and before any check: see FORCED below, plus "hang" (never
 * answers), "reset" (destroys the socket) and "server-error" (502, HTML body).
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ContractFake, FakeCall } from "./contract-fake.js";
import { FAKE_ONLY_ENDINGS as F, type FakeOutcomeTable, OUTCOME_ENDINGS as E, outcomeFor } from "./outcomes.js";

export const TENCENT_FAKE_DEFAULTS = {
  secretId: "AKIDvoicecodeFakeSecretId000000000000",
  secretKey: "voicecodeFakeSecretKey0000000000",
  sdkAppId: "1400006666",
  region: "ap-guangzhou",
} as const;

const ACTION = "SendCodeVoice";
const VERSION = "2020-09-02";
const SERVICE = "vms";
const MAX_SKEW_SEC = 300;
const REGIONS = ["ap-guangzhou", "ap-beijing", "ap-shanghai", "ap-nanjing", "ap-chengdu", "ap-chongqing"];
const BODY_FIELDS = ["CodeMessage", "CalledNumber", "VoiceSdkAppid", "PlayTimes", "SessionContext"];

interface ApiError {
  readonly code: string;
  readonly message: string;
  /** The call still goes out although the answer is an error (an upstream timeout). */
  readonly placesCall?: boolean;
}

/** Forced error answers, each the documented code with a realistic message. */
export const FORCED = {
  auth: { code: "AuthFailure.SignatureFailure", message: "The provided credentials could not be validated. Please check your signature is correct." },
  "secret-id": { code: "AuthFailure.SecretIdNotFound", message: "The SecretId is not found, please ensure that your SecretId is correct." },
  "rate-limit": { code: "LimitExceeded.DeliveryFrequencyLimit", message: "下发语音消息时命中频率限制策略" },
  "request-limit": { code: "RequestLimitExceeded", message: "Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second." },
  "insufficient-balance": { code: "FailedOperation.InsufficientBalanceInVoicePackage", message: "套餐包余量不足,请及时购买语音套餐包。" },
  arrears: { code: "UnauthorizedOperation.ServiceSuspendDueToArrears", message: "因腾讯云账号欠费被停止服务" },
  "invalid-number": { code: "InvalidParameterValue.CalledNumberVerifyFail", message: "被叫手机号码格式校验失败。" },
  "sdk-app-id": { code: "InvalidParameterValue.SdkAppidNotExist", message: "SDK AppID 不存在。" },
  "app-disabled": { code: "UnauthorizedOperation.SdkAppidIsDisabled", message: "SDK AppID 禁用发送语音消息" },
  "sensitive-word": { code: "FailedOperation.ContainSensitiveWord", message: "语音内容中含有敏感词" },
  "ip-blacklist": { code: "IpInBlacklist", message: "IP in blacklist." },
  "upstream-error": { code: "InternalError.UpstreamError", message: "语音上游错误" },
  "upstream-timeout": { code: "InternalError.AccessUpstreamTimeout", message: "访问上游超时网络,请稍后重试。", placesCall: true },
  "internal-error": { code: "InternalError", message: "An internal error has occurred. Retry your request." },
  unsupported: { code: "UnsupportedOperation", message: "操作不支持。" },
} as const satisfies Record<string, ApiError>;

export type TencentFakeOutcome = keyof typeof FORCED | "hang" | "reset" | "server-error" | "garbage-200";

export type FailureOrder = "result-first" | "failure-first";

export interface TencentFakeOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly secretId?: string;
  readonly secretKey?: string;
  readonly sdkAppId?: string;
  readonly region?: string;
  /** Delay before each callback of a call. Default 20 ms. */
  readonly stepMs?: number;
  /** First retry delay of an unacknowledged callback, doubled per attempt. Default 10 ms. */
  readonly retryDelayMs?: number;
  /** Attempts per callback before giving up. Default 5. */
  readonly maxAttempts?: number;
  readonly callbackUrl?: string;
  /** Which of a failed call's two callbacks goes first. Default "result-first". */
  readonly failureOrder?: FailureOrder;
  /** The fake's clock, for the timestamp window and callback times. Default Date.now. */
  readonly now?: () => number;
}

/** One API request as received. */
export interface TencentFakeRequest {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The error code answered, or "OK" / the forced transport outcome. */
  readonly answer: string;
}

/** One delivery attempt of one callback. */
export interface TencentFakeDelivery {
  readonly providerCallId: string;
  readonly type: string;
  readonly body: string;
  readonly attempt: number;
  /** HTTP status, or 0 when the POST failed. */
  readonly status: number;
  readonly acked: boolean;
}

export interface TencentFake extends ContractFake {
  readonly requests: readonly TencentFakeRequest[];
  readonly deliveries: readonly TencentFakeDelivery[];
  /** Forces the answer of the next API request (queued). */
  failNext(outcome: TencentFakeOutcome): void;
  setFailureOrder(order: FailureOrder): void;
  /**
   * The next accepted call is answered and completes whatever its number's ending: the
   * same number can then be busy on another provider and answered here (outcome fallback).
   */
  answerNextCall(): void;
  /** One POST of a raw callback body to the callback URL, no retries; the receiver's reply. */
  pushRaw(body: string | object): Promise<{ status: number; body: string }>;
}

interface Callback {
  readonly type: string;
  readonly body: string;
}

export async function startTencentFake(options: TencentFakeOptions = {}): Promise<TencentFake> {
  const creds = {
    secretId: options.secretId ?? TENCENT_FAKE_DEFAULTS.secretId,
    secretKey: options.secretKey ?? TENCENT_FAKE_DEFAULTS.secretKey,
  };
  const sdkAppId = options.sdkAppId ?? TENCENT_FAKE_DEFAULTS.sdkAppId;
  const region = options.region ?? TENCENT_FAKE_DEFAULTS.region;
  const stepMs = options.stepMs ?? 20;
  const retryDelayMs = options.retryDelayMs ?? 10;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const now = options.now ?? Date.now;
  let callbackUrl = options.callbackUrl;
  let failureOrder: FailureOrder = options.failureOrder ?? "result-first";

  const calls: FakeCall[] = [];
  const requests: TencentFakeRequest[] = [];
  const deliveries: TencentFakeDelivery[] = [];
  const forced: TencentFakeOutcome[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const stop = new AbortController();
  let pending = 0;
  let waiters: (() => void)[] = [];
  let closed = false;

  const done = (): void => {
    // close() already released every waiter.
    if (closed) return;
    pending--;
    if (pending > 0) return;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const post = async (body: string): Promise<{ status: number; body: string }> => {
    if (callbackUrl === undefined) throw new Error("no callback URL set");
    const response = await fetch(callbackUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(2000)]),
    });
    return { status: response.status, body: await response.text() };
  };

  /** Delivers one call's callbacks in order, each retried until the documented ack. */
  const deliver = async (providerCallId: string, callbacks: readonly Callback[]): Promise<void> => {
    try {
      for (const callback of callbacks) {
        await sleep(stepMs);
        for (let attempt = 1; attempt <= maxAttempts && !closed; attempt++) {
          let status = 0;
          let acked = false;
          try {
            const reply = await post(callback.body);
            status = reply.status;
            acked = reply.status === 200 && isAck(reply.body);
          } catch {
            // Refused, reset or timed out: retried like any other non-ack.
          }
          if (closed) return;
          deliveries.push({ providerCallId, type: callback.type, body: callback.body, attempt, status, acked });
          if (acked) break;
          if (attempt < maxAttempts) await sleep(retryDelayMs * 2 ** (attempt - 1));
        }
      }
    } finally {
      done();
    }
  };

  let answerNext = 0;
  const place = (call: FakeCall): void => {
    calls.push(call);
    pending++;
    const answer = answerNext > 0;
    if (answer) answerNext--;
    void deliver(call.providerCallId, lifecycle(call, Math.floor(now() / 1000), failureOrder, answer));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const outcome = forced.shift();
      const record = (answer: string): void => {
        requests.push({ headers: req.headers, body: raw.toString("utf8"), answer });
      };
      if (outcome === "hang") return record("hang");
      if (outcome === "reset") {
        record("reset");
        req.socket.destroy();
        return;
      }
      if (outcome === "server-error") {
        record("server-error");
        res.writeHead(502, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>");
        return;
      }
      if (outcome === "garbage-200") {
        record("garbage-200");
        res.writeHead(200, { "content-type": "application/json" }).end('{"Response":');
        return;
      }
      const result =
        outcome === undefined
          ? handle(req, raw, { creds, sdkAppId, nowSec: Math.floor(now() / 1000) })
          : { error: FORCED[outcome] as ApiError, call: undefined };
      record(result.error?.code ?? "OK");
      const requestId = randomUUID();
      if (result.error !== undefined) {
        if (result.error.placesCall === true) {
          const call = callFromBody(raw);
          if (call !== undefined) place(call);
        }
        json(res, { Response: { Error: { Code: result.error.code, Message: result.error.message }, RequestId: requestId } });
        return;
      }
      const call = result.call;
      if (call === undefined) throw new Error("unreachable: accepted without a call");
      place(call);
      if (outcomeFor(TENCENT_FAKE_OUTCOMES, call.phoneNumber) === E.answerLost) {
        // The call is placed, but the answer never reaches the caller.
        requests[requests.length - 1] = { headers: req.headers, body: raw.toString("utf8"), answer: "answer-lost" };
        req.socket.destroy();
        return;
      }
      json(res, {
        Response: { SendStatus: { CallId: call.providerCallId, SessionContext: call.echo ?? "" }, RequestId: requestId },
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    provider: "tencent",
    outcomes: TENCENT_FAKE_OUTCOMES,
    url,
    env: {
      VOICECODE_TENCENT_SECRET_ID: creds.secretId,
      VOICECODE_TENCENT_SECRET_KEY: creds.secretKey,
      VOICECODE_TENCENT_SDK_APP_ID: sdkAppId,
      VOICECODE_TENCENT_REGION: region,
      VOICECODE_TENCENT_ENDPOINT: url,
    },
    calls,
    requests,
    deliveries,
    setCallbackUrl(next) {
      callbackUrl = next;
    },
    setFailureOrder(order) {
      failureOrder = order;
    },
    answerNextCall() {
      answerNext++;
    },
    failNext(outcome) {
      forced.push(outcome);
    },
    pushRaw(body) {
      return post(typeof body === "string" ? body : JSON.stringify(body));
    },
    settled() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      if (closed) return;
      closed = true;
      stop.abort(new Error("tencent fake closed"));
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      pending = 0;
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function isAck(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null && (parsed as { result?: unknown }).result === 0;
  } catch {
    return false;
  }
}

interface HandleContext {
  readonly creds: { readonly secretId: string; readonly secretKey: string };
  readonly sdkAppId: string;
  readonly nowSec: number;
}

/** The gateway's and the service's checks, in order; the first failure answers. */
function handle(
  req: http.IncomingMessage,
  raw: Buffer,
  ctx: HandleContext,
): { error: ApiError; call: undefined } | { error: undefined; call: FakeCall } {
  const fail = (code: string, message: string) => ({ error: { code, message }, call: undefined }) as const;
  if (req.method !== "POST") return fail("InvalidRequest", "This action only supports POST.");
  const contentType = header(req, "content-type");
  if (!/^application\/json\b/i.test(contentType)) return fail("InvalidRequest", "Unsupported Content-Type.");
  if (header(req, "x-tc-action") !== ACTION) return fail("InvalidAction", "The action requested is invalid.");
  if (header(req, "x-tc-version") !== VERSION) return fail("NoSuchVersion", "The requested version does not exist.");
  const region = header(req, "x-tc-region");
  if (region === "") return fail("MissingParameter", "The request is missing a required parameter `Region`.");
  if (!REGIONS.includes(region)) return fail("UnsupportedRegion", "The region is not supported.");

  const verified = verifyTc3(
    { method: req.method, path: new URL(req.url ?? "/", "http://x").pathname, headers: req.headers, body: raw },
    ctx.creds,
    ctx.nowSec,
  );
  if (!verified.ok) return fail(verified.code, verified.message);

  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return fail("FailedOperation.InvalidJsonParameters", "无效 JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return fail("FailedOperation.InvalidJsonParameters", "无效 JSON");
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !BODY_FIELDS.includes(k));
  if (unknown !== undefined) return fail("UnknownParameter", `The parameter \`${unknown}\` is not recognized.`);
  for (const name of ["CodeMessage", "CalledNumber", "VoiceSdkAppid"]) {
    if (fields[name] === undefined) return fail("MissingParameter", `The request is missing a required parameter \`${name}\`.`);
    if (typeof fields[name] !== "string") return fail("InvalidParameter", `The parameter \`${name}\` must be a String.`);
  }
  const { CodeMessage, CalledNumber, VoiceSdkAppid, PlayTimes, SessionContext } = fields as Record<string, string>;
  if (!/^\+[1-9][0-9]{6,14}$/.test(CalledNumber ?? "")) return fail("InvalidParameterValue.CalledNumberVerifyFail", "被叫手机号码格式校验失败。");
  if (VoiceSdkAppid !== ctx.sdkAppId) return fail("InvalidParameterValue.SdkAppidNotExist", "SDK AppID 不存在。");
  if (!/^[0-9]{1,12}$/.test(CodeMessage ?? "")) return fail("InvalidParameterValue", "CodeMessage 仅支持数字。");
  const playTimes: unknown = PlayTimes ?? 2;
  if (typeof playTimes !== "number" || !Number.isInteger(playTimes) || playTimes < 1 || playTimes > 3) {
    return fail("InvalidParameterValue", "PlayTimes 最多3次。");
  }
  if (SessionContext !== undefined && typeof SessionContext !== "string") {
    return fail("InvalidParameter", "The parameter `SessionContext` must be a String.");
  }
  const ending = outcomeFor(TENCENT_FAKE_OUTCOMES, CalledNumber ?? "");
  if (ending === E.rateLimited) return fail(FORCED["rate-limit"].code, FORCED["rate-limit"].message);
  if (ending === E.insufficientBalance) return fail(FORCED["insufficient-balance"].code, FORCED["insufficient-balance"].message);
  return {
    error: undefined,
    call: {
      providerCallId: randomUUID(),
      phoneNumber: CalledNumber ?? "",
      code: CodeMessage ?? "",
      playTimes,
      echo: SessionContext,
    },
  };
}

/** Best effort for forced outcomes that still place the call. */
function callFromBody(raw: Buffer): FakeCall | undefined {
  try {
    const b = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
    return {
      providerCallId: randomUUID(),
      phoneNumber: String(b.CalledNumber ?? ""),
      code: String(b.CodeMessage ?? ""),
      playTimes: typeof b.PlayTimes === "number" ? b.PlayTimes : 2,
      echo: typeof b.SessionContext === "string" ? b.SessionContext : undefined,
    };
  } catch {
    return undefined;
  }
}

function header(req: http.IncomingMessage, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value.join(",") : (value ?? "")).trim();
}

// ---------------------------------------------------------------------------------
// TC3-HMAC-SHA256 verification, written independently of src/providers/tencent/signer.

export interface Tc3Request {
  readonly method: string | undefined;
  readonly path: string;
  /** As node:http gives them: lower-case names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export type Tc3Verdict = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

const AUTHORIZATION =
  /^TC3-HMAC-SHA256 Credential=([^/\s,]+)\/([0-9]{4}-[0-9]{2}-[0-9]{2})\/([a-z0-9-]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/**
 * A signed header's canonical value. For `host`, the hostname of the Host header received,
 * without its port: the official SDK (tencentcloud-sdk-nodejs-common 4.1.220) signs
 * `host:${new URL(url).hostname}` but sends `Host: ${new URL(url).host}`, so with an
 * explicit port the header and the signed value differ, and Tencent, which accepts its
 * SDK's requests, must compare hostnames. A client that signs the port is refused here.
 */
function canonicalValue(name: string, value: string): string {
  if (name !== "host") return value.toLowerCase();
  // "[::1]:9000" -> "[::1]", "127.0.0.1:4567" -> "127.0.0.1", "vms.tencentcloudapi.com" unchanged.
  return value.toLowerCase().replace(/:[0-9]*$/, "");
}

/**
 * Verifies X-TC-Timestamp (±5 minutes) and the Authorization header of one request, the
 * way Tencent's gateway does: recomputes the signature from the headers actually sent
 * (the Host header's hostname, see canonicalValue).
 */
export function verifyTc3(
  request: Tc3Request,
  creds: { readonly secretId: string; readonly secretKey: string },
  nowSec: number,
): Tc3Verdict {
  const get = (name: string): string => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value.join(",") : (value ?? "")).trim();
  };
  const timestampText = get("x-tc-timestamp");
  if (!/^[0-9]{1,12}$/.test(timestampText)) {
    return { ok: false, code: "MissingParameter", message: "The request is missing a required parameter `Timestamp`." };
  }
  const timestamp = Number(timestampText);
  if (Math.abs(nowSec - timestamp) > MAX_SKEW_SEC) {
    return { ok: false, code: "AuthFailure.SignatureExpire", message: "Signature expired. Timestamp and server time cannot differ by more than 5 minutes." };
  }
  const match = AUTHORIZATION.exec(get("authorization"));
  if (match === null) {
    return { ok: false, code: "AuthFailure.InvalidAuthorization", message: "Authorization header format error." };
  }
  const [, secretId = "", date = "", service = "", signedHeaders = "", signature = ""] = match;
  if (secretId !== creds.secretId) {
    return { ok: false, code: "AuthFailure.SecretIdNotFound", message: "The SecretId is not found, please ensure that your SecretId is correct." };
  }
  const names = signedHeaders.split(";");
  const sortedUnique = [...new Set(names)].sort();
  const signatureFailure = { ok: false, code: "AuthFailure.SignatureFailure", message: "The provided credentials could not be validated. Please check your signature is correct." } as const;
  if (!names.includes("content-type") || !names.includes("host") || names.join(";") !== sortedUnique.join(";")) {
    return signatureFailure;
  }
  const utcDate = new Date(timestamp * 1000).toISOString().slice(0, 10);
  if (date !== utcDate || service !== SERVICE) return signatureFailure;

  const canonicalHeaders = names.map((n) => `${n}:${canonicalValue(n, get(n))}\n`).join("");
  const hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
  const canonical = `${request.method ?? ""}\n${request.path}\n\n${canonicalHeaders}\n${signedHeaders}\n${hex(request.body)}`;
  const toSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/${service}/tc3_request\n${hex(canonical)}`;
  const mac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();
  const signingKey = mac(mac(mac(`TC3${creds.secretKey}`, date), service), "tc3_request");
  const expected = mac(signingKey, toSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return signatureFailure;
  return { ok: true };
}

// ---------------------------------------------------------------------------------
// Callbacks.

interface Script {
  /** voicecode_callback result. */
  readonly result: "0" | "1" | "2";
  /** voice_failure_callback failure_code, when one is sent. */
  readonly failure?: { readonly code: number; readonly reason: string };
}

const SCRIPTS: Readonly<Record<string, Script>> = {
  [E.busy]: { result: "1", failure: { code: 10, reason: "用户正忙" } },
  [E.noAnswer]: { result: "1", failure: { code: 5, reason: "无人接听" } },
  [E.invalidNumber]: { result: "2", failure: { code: 8, reason: "空号" } },
  [E.poweredOff]: { result: "2", failure: { code: 1, reason: "关机" } },
  [E.rejected]: { result: "1" },
  [E.unreachable]: { result: "2", failure: { code: 3, reason: "不在服务区" } },
  [F.providerError]: { result: "2" },
};

/** What the fake does by the callee's last four digits (see test/fakes/outcomes.ts). */
export const TENCENT_FAKE_OUTCOMES: FakeOutcomeTable = {
  [E.busy]: { name: "busy", send: "accepted", finalState: "FAILED", failureReason: "BUSY", does: 'result "1" + failure_code 10 (用户正忙)' },
  [E.noAnswer]: { name: "no answer", send: "accepted", finalState: "FAILED", failureReason: "NO_ANSWER", does: 'result "1" + failure_code 5 (无人接听)' },
  [E.invalidNumber]: { name: "invalid number", send: "accepted", finalState: "FAILED", failureReason: "INVALID_NUMBER", does: 'result "2" + failure_code 8 (空号)' },
  [E.poweredOff]: { name: "powered off", send: "accepted", finalState: "FAILED", failureReason: "POWERED_OFF", does: 'result "2" + failure_code 1 (关机)' },
  [E.rejected]: {
    name: "rejected",
    send: "accepted",
    finalState: "FAILED",
    failureReason: "NO_ANSWER",
    does: 'result "1" only',
    differs: "Tencent has no code for a declined call: a provisional NO_ANSWER",
  },
  [E.unreachable]: { name: "unreachable", send: "accepted", finalState: "FAILED", failureReason: "UNREACHABLE", does: 'result "2" + failure_code 3 (不在服务区)' },
  [E.rateLimited]: { name: "rate limited", send: "rejected", finalState: "FAILED", failureReason: "RATE_LIMITED", does: "API: LimitExceeded.DeliveryFrequencyLimit" },
  [E.insufficientBalance]: {
    name: "insufficient balance",
    send: "rejected",
    finalState: "FAILED",
    failureReason: "INSUFFICIENT_BALANCE",
    does: "API: FailedOperation.InsufficientBalanceInVoicePackage",
  },
  [E.answerLost]: {
    name: "answer lost",
    send: "ambiguous",
    finalState: "PENDING",
    failureReason: "UNSPECIFIED",
    does: "places the call, resets the connection instead of answering; then the completed callbacks",
    differs: "callbacks carry no SessionContext: the call, never told its CallId, stays PENDING",
  },
  [F.providerError]: { name: "provider error", send: "accepted", finalState: "FAILED", failureReason: "PROVIDER_ERROR", does: 'result "2" only (no failure callback)' },
  other: { name: "completed", send: "accepted", finalState: "COMPLETED", failureReason: "UNSPECIFIED", does: 'result "0" (answered)' },
};

const ANSWERED: Script = { result: "0" };

/** Splits +8613711112222 into nationcode 86 and mobile 13711112222, as the callbacks carry them. */
function splitNumber(phone: string): { nationcode: string; mobile: string } {
  const digits = phone.replace(/^\+/, "");
  const ccLength = digits.startsWith("1") || digits.startsWith("7") ? 1 : /^(85[2-3]|886)/.test(digits) ? 3 : 2;
  return { nationcode: digits.slice(0, ccLength), mobile: digits.slice(ccLength) };
}

const DISPLAY_NUMBER = "075583763333";

/** The callbacks of one accepted call, in the order they are pushed. */
function lifecycle(call: FakeCall, startSec: number, order: FailureOrder, answer = false): Callback[] {
  const script = answer ? ANSWERED : (SCRIPTS[outcomeFor(TENCENT_FAKE_OUTCOMES, call.phoneNumber)] ?? ANSWERED);
  const { nationcode, mobile } = splitNumber(call.phoneNumber);
  const answered = script.result === "0";
  const result: Callback = {
    type: "voicecode_callback",
    body: JSON.stringify({
      voicecode_callback: {
        result: script.result,
        accept_time: answered ? String(startSec + 5) : "0",
        call_from: DISPLAY_NUMBER,
        callid: call.providerCallId,
        end_calltime: String(startSec + (answered ? 5 + 4 * call.playTimes : 30)),
        fee: answered ? "1" : "0",
        mobile,
        nationcode,
        start_calltime: String(startSec + 1),
      },
    }),
  };
  if (script.failure === undefined) return [result];
  const failure: Callback = {
    type: "voice_failure_callback",
    body: JSON.stringify({
      voice_failure_callback: {
        call_from: DISPLAY_NUMBER,
        callid: call.providerCallId,
        failure_code: script.failure.code,
        failure_reason: script.failure.reason,
        mobile,
        nationcode,
      },
    }),
  };
  return order === "failure-first" ? [failure, result] : [result, failure];
}
