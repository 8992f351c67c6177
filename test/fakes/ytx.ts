/**
 * Contract fake of ytx.net's voice verification code API (xunzhong.codeCallOut,
 * POST /201512/sid/{accountSID}/call/CodeCallOut.wx?Sign=...). It checks what the real
 * service checks, with its own implementation of the signing rules (never the adapter's
 * signer, or the contract test would be circular): the Sign (MD5 of sid + token +
 * timestamp, either case), the Authorization header (Base64 of "sid|timestamp", same
 * timestamp; "|" as the seed's table says, NOT the ":" its worked example decodes to,
 * see verifyYtxAuth), a 24-hour timestamp window (Beijing time), the sid in the path, the app
 * id, and the body's parameters. Answers are ytx's {"statusCode","statusMsg","requestId"}
 * with HTTP 200, as in the seed; codes other than 0, -2 and -205 come from a third-party
 * ytx error table, -104 (rate limit, only forced by failNext) from an answer quoted in the
 * same project (UNCONFIRMED):
 *
 *   -200 unknown account sid in the path     -202 bad/missing Authorization or timestamp
 *   -203 bad/missing Sign                    -205 unknown app id
 *   -4 body is not JSON   -3 wrong action    -2 appid/dst/code missing
 *   -102 dst is not a mainland mobile (1xxxxxxxxxx) or area code + landline (0...)
 *   -101 code not 1-19 letters/digits, time not 1-3, dstclid not digits
 *
 * After accepting a call it POSTs status pushes to the callback URL, one step (stepMs)
 * apart, retrying a push that is not answered 2xx (ytx's ack rule is undocumented; the
 * fake counts any 2xx). THE PUSH BODY IS INVENTED: ytx does not publish its format. The
 * fake sends a plausible JSON object so the whole path can be tried:
 *
 *   {"action":"codeCallStatus","requestId":"2025030100000001","state":"alerting",
 *    "dst":"13911281234","timestamp":"20250301160001"}
 *
 * The callee number's last four digits choose the outcome, on the sandbox's endings
 * (test/fakes/outcomes.ts; YTX_FAKE_OUTCOMES below is the table, printed by `npm run
 * fake`), each push state a word the adapter maps. ytx's refusal of a number (-1 号码无效)
 * and a call without pushes (as on the ytx sandbox) have fake-only endings.
 *
 * failNext() forces the next API request's outcome; pushRaw() sends any body once.
 */
import { createHash, randomInt } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContractFake, FakeCall } from "./contract-fake.js";
import { FAKE_ONLY_ENDINGS as F, type FakeOutcomeTable, OUTCOME_ENDINGS as E, outcomeFor } from "./outcomes.js";

export interface YtxFakeOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly accountSid?: string;
  readonly authToken?: string;
  readonly appId?: string;
  readonly callbackUrl?: string;
  /** Delay before each push of a call. Default 20 ms. */
  readonly stepMs?: number;
  /** First retry delay of an unacknowledged push, doubled per attempt. Default 10 ms. */
  readonly retryDelayMs?: number;
  /** Attempts per push before giving up. Default 4. */
  readonly maxAttempts?: number;
  /** Accepted distance between the request timestamp and now. Default 24 h, per the seed. */
  readonly timestampWindowMs?: number;
  /** The fake's clock. Default Date.now. */
  readonly now?: () => number;
}

/** Named refusals (the ytx statusCode each answers) plus transport failures. */
export const YTX_FAKE_CODES = {
  "missing-parameter": { statusCode: "-2", statusMsg: "缺少必要参数" },
  "invalid-number": { statusCode: "-1", statusMsg: "号码无效" },
  "invalid-action": { statusCode: "-3", statusMsg: "无效action" },
  "invalid-json": { statusCode: "-4", statusMsg: "无效的JSON" },
  exception: { statusCode: "-100", statusMsg: "异常错误" },
  "invalid-parameter": { statusCode: "-101", statusMsg: "参数不合法" },
  "illegal-number": { statusCode: "-102", statusMsg: "电话号码不合法" },
  "rate-limited": { statusCode: "-104", statusMsg: "请求频率过高" },
  "unknown-account": { statusCode: "-200", statusMsg: "无此用户" },
  "account-disabled": { statusCode: "-201", statusMsg: "用户状态失效" },
  "header-auth": { statusCode: "-202", statusMsg: "包头验证信息错误" },
  auth: { statusCode: "-203", statusMsg: "AuthToken验证失败" },
  "insufficient-balance": { statusCode: "-204", statusMsg: "账户余额不足" },
  "app-verification": { statusCode: "-205", statusMsg: "应用验证失败" },
} as const;

export type YtxFakeCode = keyof typeof YTX_FAKE_CODES;

export type YtxFakeFailure =
  | YtxFakeCode
  /** Never answer: the client's timeout turns it into ambiguous. */
  | "hang"
  /** Read the request, then destroy the socket. */
  | "reset"
  /** HTTP 502 with an HTML body. */
  | "server-error"
  /** Any raw answer, e.g. a statusCode the table does not know. */
  | { readonly status?: number; readonly body: string };

export interface YtxFakeRequest {
  readonly method: string;
  readonly path: string;
  readonly sign: string | undefined;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
}

export interface YtxFakeDelivery {
  readonly body: string;
  readonly attempt: number;
  /** HTTP status, or the error text when the POST failed. */
  readonly result: number | string;
}

export interface YtxFake extends ContractFake {
  readonly credentials: { readonly accountSid: string; readonly authToken: string; readonly appId: string };
  /** Every request that reached the fake, valid or not. */
  readonly requests: readonly YtxFakeRequest[];
  /** Every push attempt, in order. */
  readonly deliveries: readonly YtxFakeDelivery[];
  failNext(failure: YtxFakeFailure): void;
  /** POSTs `body` once to the callback URL (no retry) and returns the answer. */
  pushRaw(body: string, contentType?: string): Promise<{ status: number; body: string }>;
}

const DEFAULT_CREDENTIALS = {
  accountSid: "aa11bb22cc33dd44ee55ff6677889900",
  authToken: "f0e1d2c3b4a5968778695a4b3c2d1e0f",
  appId: "ff8080813fc70a7b013fc72312324213",
};

const API_PATH = /^\/201512\/sid\/([^/]+)\/call\/CodeCallOut\.wx$/;
const DAY_MS = 24 * 60 * 60 * 1000;

const LIFECYCLES: Readonly<Record<string, readonly string[]>> = {
  [E.busy]: ["callout", "busy"],
  [E.noAnswer]: ["callout", "alerting", "noanswer"],
  [E.invalidNumber]: ["callout", "invalidnumber"],
  [E.poweredOff]: ["callout", "poweroff"],
  [E.rejected]: ["callout", "alerting", "rejected"],
  [E.unreachable]: ["callout", "unreachable"],
  [F.noStatusPush]: [],
};
const DEFAULT_LIFECYCLE = ["callout", "alerting", "answer", "success"];
const REFUSED_BY_NUMBER: Readonly<Record<string, YtxFakeCode>> = {
  [E.rateLimited]: "rate-limited",
  [E.insufficientBalance]: "insufficient-balance",
  [F.refusedInvalidNumber]: "invalid-number",
};

const pushes = (states: readonly string[]): string => `pushes ${states.join(", ")}`;

/** What the fake does by the callee's last four digits (see test/fakes/outcomes.ts). */
export const YTX_FAKE_OUTCOMES: FakeOutcomeTable = {
  [E.busy]: { name: "busy", send: "accepted", finalState: "FAILED", failureReason: "BUSY", does: pushes(LIFECYCLES[E.busy] ?? []) },
  [E.noAnswer]: { name: "no answer", send: "accepted", finalState: "FAILED", failureReason: "NO_ANSWER", does: pushes(LIFECYCLES[E.noAnswer] ?? []) },
  [E.invalidNumber]: {
    name: "invalid number",
    send: "accepted",
    finalState: "FAILED",
    failureReason: "INVALID_NUMBER",
    does: pushes(LIFECYCLES[E.invalidNumber] ?? []),
  },
  [E.poweredOff]: { name: "powered off", send: "accepted", finalState: "FAILED", failureReason: "POWERED_OFF", does: pushes(LIFECYCLES[E.poweredOff] ?? []) },
  [E.rejected]: { name: "rejected", send: "accepted", finalState: "FAILED", failureReason: "REJECTED", does: pushes(LIFECYCLES[E.rejected] ?? []) },
  [E.unreachable]: { name: "unreachable", send: "accepted", finalState: "FAILED", failureReason: "UNREACHABLE", does: pushes(LIFECYCLES[E.unreachable] ?? []) },
  [E.rateLimited]: { name: "rate limited", send: "rejected", finalState: "FAILED", failureReason: "RATE_LIMITED", does: "API: -104 请求频率过高" },
  [E.insufficientBalance]: { name: "insufficient balance", send: "rejected", finalState: "FAILED", failureReason: "INSUFFICIENT_BALANCE", does: "API: -204 账户余额不足" },
  [E.answerLost]: {
    name: "answer lost",
    send: "ambiguous",
    finalState: "PENDING",
    failureReason: "UNSPECIFIED",
    does: `places the call, resets the connection instead of answering; then ${pushes(DEFAULT_LIFECYCLE)}`,
    differs: "ytx has no echo field: the call, never told its requestId, stays PENDING",
  },
  [F.noStatusPush]: { name: "no status push", send: "accepted", finalState: "ACCEPTED", failureReason: "UNSPECIFIED", does: "no pushes (like the ytx sandbox)" },
  [F.refusedInvalidNumber]: {
    name: "invalid number (refused by the API)",
    send: "rejected",
    finalState: "FAILED",
    failureReason: "INVALID_NUMBER",
    does: "API: -1 号码无效",
  },
  other: { name: "completed", send: "accepted", finalState: "COMPLETED", failureReason: "UNSPECIFIED", does: pushes(DEFAULT_LIFECYCLE) },
};

/** Beijing wall clock (UTC+8), computed independently of the adapter's time.ts. */
function beijingStamp(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function beijingStampToMs(stamp: string): number | undefined {
  if (!/^\d{14}$/.test(stamp)) return undefined;
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}+08:00`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || beijingStamp(ms) !== stamp ? undefined : ms;
}

export interface YtxAuthInput {
  readonly accountSid: string;
  readonly authToken: string;
  readonly sign: string | undefined;
  readonly authorization: string | undefined;
  readonly nowMs: number;
  readonly windowMs?: number;
}

/**
 * The fake's own check of Sign and Authorization: "ok", or the ytx code a real server
 * would answer (-202 for the header and its timestamp, -203 for the Sign).
 *
 * The separator is "|" and only "|": an Authorization of Base64("sid:timestamp") is
 * refused with -202. The seed (001) contradicts itself here: its parameter table says
 * Base64(账户Id + "|" + 时间戳), while its 报文示例 header decodes to "<sid>:<timestamp>".
 * The example is copied verbatim from cloopen's (容联·云通讯, another vendor, whose scheme
 * uses ":") docs, path and sig placeholders included. A public production integration of
 * ytx, github.com/fanshuai/kubrick (commit b7ed6588) server/voice/ytxz/action.py, sends
 * "|". See docs/providers.md (ytx) and the comment in src/providers/ytx/signer.ts.
 */
export function verifyYtxAuth(input: YtxAuthInput): "ok" | "-202" | "-203" {
  const decoded = Buffer.from(input.authorization ?? "", "base64").toString("utf8");
  const bar = decoded.lastIndexOf("|");
  if (bar < 0 || decoded.slice(0, bar) !== input.accountSid) return "-202";
  const stamp = decoded.slice(bar + 1);
  const at = beijingStampToMs(stamp);
  if (at === undefined || Math.abs(input.nowMs - at) > (input.windowMs ?? DAY_MS)) return "-202";
  const expected = createHash("md5").update(`${input.accountSid}${input.authToken}${stamp}`).digest("hex");
  return input.sign?.toLowerCase() === expected ? "ok" : "-203";
}

/** Starts the fake on 127.0.0.1; with no options it uses built-in test credentials (see `env`). */
export async function startYtxFake(options: YtxFakeOptions = {}): Promise<YtxFake> {
  const credentials = {
    accountSid: options.accountSid ?? DEFAULT_CREDENTIALS.accountSid,
    authToken: options.authToken ?? DEFAULT_CREDENTIALS.authToken,
    appId: options.appId ?? DEFAULT_CREDENTIALS.appId,
  };
  const stepMs = options.stepMs ?? 20;
  const retryDelayMs = options.retryDelayMs ?? 10;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const now = options.now ?? Date.now;
  const closing = new AbortController();

  let callbackUrl = options.callbackUrl;
  let sequence = randomInt(1, 1000) * 1000;
  let pending = 0;
  let waiters: (() => void)[] = [];
  const calls: FakeCall[] = [];
  const requests: YtxFakeRequest[] = [];
  const deliveries: YtxFakeDelivery[] = [];
  const forced: YtxFakeFailure[] = [];

  const wakeIfSettled = (): void => {
    if (pending > 0 && !closing.signal.aborted) return;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };

  const post = async (body: string, contentType: string): Promise<{ status: number; body: string }> => {
    const url = callbackUrl;
    if (url === undefined) throw new Error("no callback URL set");
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType, "user-agent": "ytx-fake/1" },
      body,
      signal: AbortSignal.any([closing.signal, AbortSignal.timeout(2000)]),
    });
    return { status: response.status, body: await response.text() };
  };

  const deliver = async (body: string): Promise<void> => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let result: number | string;
      try {
        result = (await post(body, "application/json;charset=utf-8")).status;
      } catch (error) {
        result = error instanceof Error ? error.message : String(error);
      }
      if (closing.signal.aborted) return;
      deliveries.push({ body, attempt, result });
      if (typeof result === "number" && result >= 200 && result < 300) return;
      if (attempt < maxAttempts) await sleep(retryDelayMs * 2 ** (attempt - 1), undefined, { signal: closing.signal });
    }
  };

  const runLifecycle = async (requestId: string, dst: string, states: readonly string[]): Promise<void> => {
    try {
      for (const state of states) {
        await sleep(stepMs, undefined, { signal: closing.signal });
        const body = JSON.stringify({ action: "codeCallStatus", requestId, state, dst, timestamp: beijingStamp(now()) });
        await deliver(body);
      }
    } catch {
      // Closed mid-call: the remaining pushes are dropped.
    } finally {
      pending--;
      wakeIfSettled();
    }
  };

  const answer = (res: ServerResponse, code: YtxFakeCode): void => {
    res.writeHead(200, { "content-type": "application/json;charset=utf-8" });
    res.end(JSON.stringify({ ...YTX_FAKE_CODES[code], requestId: "" }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    requests.push({
      method: req.method ?? "",
      path: url.pathname,
      sign: url.searchParams.get("Sign") ?? undefined,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body,
    });

    const route = API_PATH.exec(url.pathname);
    if (route === null || req.method !== "POST") {
      res.writeHead(route === null ? 404 : 405, { "content-type": "text/html" }).end("<html><body>Not Found</body></html>");
      return;
    }
    const failure = forced.shift();
    if (failure === "hang") return;
    if (failure === "reset") {
      req.socket.destroy();
      return;
    }
    if (failure === "server-error") {
      res.writeHead(502, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>");
      return;
    }
    if (typeof failure === "object") {
      res.writeHead(failure.status ?? 200, { "content-type": "application/json;charset=utf-8" }).end(failure.body);
      return;
    }
    if (failure !== undefined) return answer(res, failure);

    if (decodeURIComponent(route[1] ?? "") !== credentials.accountSid) return answer(res, "unknown-account");
    const auth = verifyYtxAuth({
      ...credentials,
      sign: url.searchParams.get("Sign") ?? undefined,
      authorization: req.headers.authorization,
      nowMs: now(),
      windowMs: options.timestampWindowMs ?? DAY_MS,
    });
    if (auth === "-202") return answer(res, "header-auth");
    if (auth === "-203") return answer(res, "auth");

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return answer(res, "invalid-json");
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) return answer(res, "invalid-json");
    const params = json as Record<string, unknown>;
    const text = (key: string): string | undefined => {
      const value = params[key];
      return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    };
    const action = text("action");
    const appid = text("appid");
    const dst = text("dst");
    const code = text("code");
    if (!action || !appid || !dst || !code) return answer(res, "missing-parameter");
    if (action !== "callOutCode") return answer(res, "invalid-action");
    if (appid !== credentials.appId) return answer(res, "app-verification");
    if (!/^(1\d{10}|0\d{9,11})$/.test(dst)) return answer(res, "illegal-number");
    const time = text("time") ?? "3";
    const dstclid = text("dstclid");
    if (!/^[A-Za-z0-9]{1,19}$/.test(code) || !/^[123]$/.test(time) || (dstclid !== undefined && !/^\d{3,20}$/.test(dstclid))) {
      return answer(res, "invalid-parameter");
    }
    const ending = outcomeFor(YTX_FAKE_OUTCOMES, dst);
    const refusal = REFUSED_BY_NUMBER[ending];
    if (refusal !== undefined) return answer(res, refusal);

    sequence++;
    const requestId = beijingStamp(now()).slice(0, 8) + String(sequence).padStart(8, "0");
    calls.push({ providerCallId: requestId, phoneNumber: dst, code, playTimes: Number(time), echo: undefined });
    pending++;
    void runLifecycle(requestId, dst, LIFECYCLES[ending] ?? DEFAULT_LIFECYCLE);
    if (ending === E.answerLost) {
      // The call is placed, but the answer never reaches the caller.
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { "content-type": "application/json;charset=utf-8" });
    res.end(JSON.stringify({ statusCode: "0", statusMsg: "提交成功", requestId }));
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    provider: "ytx",
    outcomes: YTX_FAKE_OUTCOMES,
    url,
    credentials,
    env: {
      VOICECODE_YTX_ACCOUNT_SID: credentials.accountSid,
      VOICECODE_YTX_AUTH_TOKEN: credentials.authToken,
      VOICECODE_YTX_APP_ID: credentials.appId,
      VOICECODE_YTX_ENDPOINT: url,
    },
    calls,
    requests,
    deliveries,
    setCallbackUrl(next) {
      callbackUrl = next;
    },
    failNext(failure) {
      forced.push(failure);
    },
    pushRaw(body, contentType = "application/json;charset=utf-8") {
      return post(body, contentType);
    },
    settled() {
      if (pending === 0 || closing.signal.aborted) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort(new Error("ytx fake closed"));
      wakeIfSettled();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
