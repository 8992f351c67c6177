/**
 * Contract fake of Huawei Cloud Voice Call's voice verification code API
 * (POST /rest/httpsessions/callVerify/v1.0) and of its pushes.
 *
 * It checks what the platform checks, each failure answered with Huawei's result code
 * (HTTP 400, {"resultcode":"...","resultdesc":"..."}):
 * - Authorization: AKSK realm="SDP",profile="UsernameToken",type="Appkey"
 *   (missing 1023006; realm/profile missing 1023007/1023008, wrong 1023009/1023010;
 *   type wrong 1023011, missing 1023012);
 * - X-AKSK: missing 1023033, Username missing 1023034, Nonce missing 1023035; an unknown
 *   app key, a wrong PasswordDigest or a Created stamp outside +-5 minutes 1023006. The
 *   digest is recomputed here on its own (Base64(HMAC-SHA256(secret, Nonce + Created))),
 *   never with the signer under test;
 * - the body: each field's format (1010002 naming the field), displayNbr equal to the
 *   app's number (1010023), statusUrl/feeUrl valid Base64 URLs (statusUrl <= 128 chars).
 *
 * After accepting, it pushes like the platform: call status to statusUrl (decoded), then
 * the CDR to feeUrl; to the URL set with setCallbackUrl when the request carried none
 * (the console's app-level URL). Pushes of one call go in order, `stepMs` apart; a push
 * not answered with HTTP 200 is retried (`maxAttempts`, backoff from `retryMs`). (The
 * real platform retries only CDRs, six times an hour apart; status pushes never.)
 *
 * The callee's last four digits choose the outcome, on the sandbox's endings
 * (test/fakes/outcomes.ts; HUAWEI_FAKE_OUTCOMES below is the table, printed by `npm run
 * fake`): a disconnect with the hang-up cause and a CDR with its Q.850 cause, or an API
 * refusal.
 *
 * (Huawei's API has no balance error: an account frozen for arrears shows up as hang-up
 * cause 7108 on an accepted call, hence 0008's row.) failNext() forces the next request's answer instead; pushRaw() sends
 * any body once, for duplicate, out-of-order and malformed pushes; dropStateCodeNext()
 * sends the next disconnect without its stateCode.
 */
import { createHmac, randomBytes } from "node:crypto";
import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ContractFake, FakeCall } from "./contract-fake.js";
import { FAKE_ONLY_ENDINGS as F, type FakeOutcome, type FakeOutcomeTable, OUTCOME_ENDINGS as E, outcomeFor } from "./outcomes.js";

export const HUAWEI_FAKE_PATH = "/rest/httpsessions/callVerify/v1.0";

export interface HuaweiFakeOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly appKey?: string;
  readonly appSecret?: string;
  /** The app's display number; requests must use exactly this one. */
  readonly displayNumber?: string;
  readonly preTone?: string;
  /** Delay before each push of a call. Default 20 ms. */
  readonly stepMs?: number;
  /** First retry delay of an unacknowledged push, doubled per attempt. Default 20 ms. */
  readonly retryMs?: number;
  /** Attempts per push before giving up. Default 4. */
  readonly maxAttempts?: number;
  /** Accepted distance of Created from the fake's clock. Default 5 minutes. */
  readonly createdWindowMs?: number;
  /** The platform's clock. Default Date.now. */
  readonly now?: () => number;
}

/** An answer to force on the next callVerify request. */
export type HuaweiForcedOutcome =
  | "auth" // 400 1023006
  | "rate-limit" // 400 1013001 (SP limit)
  | "app-rate-limit" // 400 1013002
  | "display-rate-limit" // 400 1013003
  | "time-window" // 400 1013121
  | "ports" // 400 1020165
  | "internal" // 400 1020002
  | "invalid-number" // 400 1010002 naming calleeNbr
  | "quote-request" // 400 1010002 naming statusUrl and quoting the whole request body
  | "server-error" // 502 with an HTML page
  | "hang" // never answers
  | "reset" // destroys the socket once the request is read
  | { readonly status: number; readonly body: string };

export interface HuaweiFakeCall extends FakeCall {
  /** Decoded statusUrl / feeUrl of the request, when it carried them. */
  readonly statusUrl: string | undefined;
  readonly feeUrl: string | undefined;
}

export interface HuaweiDelivery {
  readonly url: string | undefined;
  readonly body: string;
  /** The receiver's HTTP status; undefined when no answer came (no URL, refused, timeout). */
  readonly status: number | undefined;
}

export interface HuaweiFake extends ContractFake {
  readonly calls: readonly HuaweiFakeCall[];
  /** callVerify requests received, whatever their answer. */
  readonly requestCount: number;
  /** Every push attempt, in order. */
  readonly deliveries: readonly HuaweiDelivery[];
  readonly appKey: string;
  readonly appSecret: string;
  readonly displayNumber: string;
  /** Forces the answer to the next request (queued: several calls force several requests). */
  failNext(outcome: HuaweiForcedOutcome): void;
  /** POSTs a raw body once, as a push (default URL: the callback URL), and returns the answer. */
  pushRaw(body: string | object, url?: string): Promise<{ status: number; body: string }>;
  /**
   * The next `count` (default 1) `disconnect` pushes leave out stateCode (the hang-up
   * cause); stateDesc stays. The docs give stateCode with every disconnect, but Huawei
   * never re-sends a status push, so a receiver must cope with one without it.
   */
  dropStateCodeNext(count?: number): void;
}

interface Rejection {
  readonly code: string;
  readonly desc: string;
}

const AUTH: Record<string, string> = {
  "1023006": "Authorization not contained in the HTTP header.",
  "1023007": "realm not contained in Authorization.",
  "1023008": "profile not contained in Authorization.",
  "1023009": "The value of realm in Authorization must be SDP.",
  "1023010": "The value of profile in Authorization must be UsernameToken.",
  "1023011": "The value of type in Authorization must be app_key.",
  "1023012": "type not contained in Authorization.",
  "1023033": "HTTP header not found X-AKSK field.",
  "1023034": "UserName not contained in X-AKSK.",
  "1023035": "Nonce not contained in X-AKSK.",
};

const reject = (code: string, desc = AUTH[code] ?? "Error."): Rejection => ({ code, desc });

const FORCED: Record<Exclude<HuaweiForcedOutcome, "server-error" | "hang" | "reset" | "quote-request" | object>, Rejection> = {
  auth: reject("1023006"),
  "rate-limit": reject("1013001", "The number of calls exceeds the SP limit."),
  "app-rate-limit": reject("1013002", "The number of calls exceeds the APP limit."),
  "display-rate-limit": reject("1013003", "The number of calls exceeds the display number limit."),
  "time-window": reject("1013121", "Calls are forbidden in the current time window."),
  ports: reject("1020165", "The number of concurrent call ports of the app_key exceeds the limit."),
  internal: reject("1020002", "Internal error."),
  "invalid-number": reject("1010002", "Invalid request. The calleeNbr is invalid."),
};

/** Splits `a="x",b="y"` (after a scheme word) into attributes. */
function attributes(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of value.matchAll(/([A-Za-z]+)="([^"]*)"/g)) out.set(m[1] ?? "", m[2] ?? "");
  return out;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * The platform's check of the two authentication headers, implemented independently of
 * src/ (the signer's property test uses it as the oracle). Undefined when they pass.
 */
export function verifyHuaweiAuth(
  headers: IncomingHttpHeaders,
  credentials: { readonly appKey: string; readonly appSecret: string },
  nowMs: number,
  windowMs = 5 * 60_000,
): Rejection | undefined {
  const authorization = one(headers.authorization);
  if (authorization === undefined || !/^AKSK\s/.test(authorization)) return reject("1023006");
  const auth = attributes(authorization);
  const realm = auth.get("realm");
  const profile = auth.get("profile");
  const type = auth.get("type");
  if (realm === undefined) return reject("1023007");
  if (profile === undefined) return reject("1023008");
  if (realm !== "SDP") return reject("1023009");
  if (profile !== "UsernameToken") return reject("1023010");
  if (type === undefined) return reject("1023012");
  if (type !== "Appkey") return reject("1023011");

  const aksk = one(headers["x-aksk"]);
  if (aksk === undefined) return reject("1023033");
  if (!/^UsernameToken\s/.test(aksk)) return reject("1023006");
  const token = attributes(aksk);
  const username = token.get("Username");
  const nonce = token.get("Nonce");
  if (username === undefined || username === "") return reject("1023034");
  if (nonce === undefined || nonce === "") return reject("1023035");
  if (!/^[A-Za-z0-9]{1,128}$/.test(nonce)) return reject("1023006");
  if (username !== credentials.appKey) return reject("1023006");
  const created = token.get("Created") ?? "";
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(created)) return reject("1023006");
  const createdMs = Date.parse(created);
  if (Number.isNaN(createdMs) || Math.abs(createdMs - nowMs) > windowMs) return reject("1023006");
  const expected = createHmac("sha256", credentials.appSecret).update(`${nonce}${created}`).digest("base64");
  if (token.get("PasswordDigest") !== expected) return reject("1023006");
  return undefined;
}

type Step =
  | { readonly kind: "status"; readonly eventType: "callout" | "alerting" | "answer" }
  | { readonly kind: "disconnect"; readonly stateCode: number; readonly stateDesc: string }
  | { readonly kind: "fee"; readonly answered: boolean; readonly q850: number };

const callout: Step = { kind: "status", eventType: "callout" };
const alerting: Step = { kind: "status", eventType: "alerting" };
const hangup = (stateCode: number, stateDesc: string): Step => ({ kind: "disconnect", stateCode, stateDesc });
const fee = (q850: number, answered = false): Step => ({ kind: "fee", answered, q850 });

const LIFECYCLES: Readonly<Record<string, readonly Step[]>> = {
  [E.busy]: [callout, hangup(8102, "The callee is busy."), fee(17)],
  [E.noAnswer]: [callout, alerting, hangup(8101, "The callee does not answer."), fee(19)],
  [E.invalidNumber]: [callout, hangup(8100, "The callee number does not exist."), fee(1)],
  [E.poweredOff]: [callout, hangup(8104, "The callee is powered off."), fee(20)],
  [E.rejected]: [callout, alerting, hangup(8004, "The callee hung up while ringing."), fee(21)],
  [E.unreachable]: [callout, hangup(8103, "The callee is temporarily unreachable."), fee(41)],
  [E.insufficientBalance]: [callout, hangup(7108, "The user is frozen."), fee(0)],
};

const COMPLETED: readonly Step[] = [
  callout,
  alerting,
  { kind: "status", eventType: "answer" },
  hangup(0, "The user releases the call."),
  fee(16, true),
];

const disconnects = (ending: string): string => {
  const steps = LIFECYCLES[ending] ?? [];
  const cause = steps.find((s) => s.kind === "disconnect");
  const q850 = steps.find((s) => s.kind === "fee");
  const names = steps.filter((s) => s.kind === "status").map((s) => (s.kind === "status" ? s.eventType : ""));
  return `${[...names, `disconnect ${cause?.kind === "disconnect" ? cause.stateCode : ""}`].join(", ")}, fee (Q.850 ${q850?.kind === "fee" ? q850.q850 : ""})`;
};
const failed = (ending: string, name: string, failureReason: FakeOutcome["failureReason"]): FakeOutcome => ({
  name,
  send: "accepted",
  finalState: "FAILED",
  failureReason,
  does: disconnects(ending),
});

/** What the fake does by the callee's last four digits (see test/fakes/outcomes.ts). */
export const HUAWEI_FAKE_OUTCOMES: FakeOutcomeTable = {
  [E.busy]: failed(E.busy, "busy", "BUSY"),
  [E.noAnswer]: failed(E.noAnswer, "no answer", "NO_ANSWER"),
  [E.invalidNumber]: failed(E.invalidNumber, "invalid number", "INVALID_NUMBER"),
  [E.poweredOff]: failed(E.poweredOff, "powered off", "POWERED_OFF"),
  [E.rejected]: failed(E.rejected, "rejected", "REJECTED"),
  [E.unreachable]: failed(E.unreachable, "unreachable", "UNREACHABLE"),
  [E.rateLimited]: { name: "rate limited", send: "rejected", finalState: "FAILED", failureReason: "RATE_LIMITED", does: "API: 400 1013001" },
  [E.insufficientBalance]: {
    ...failed(E.insufficientBalance, "insufficient balance", "INSUFFICIENT_BALANCE"),
    differs: "Huawei's API has no balance error: the call is accepted, then hangs up with 7108",
  },
  [E.answerLost]: {
    name: "answer lost",
    send: "ambiguous",
    finalState: "COMPLETED",
    failureReason: "UNSPECIFIED",
    does: "places the call, resets the connection instead of answering; then the completed pushes (userData echoes our call id)",
  },
  [F.refusedInvalidNumber]: {
    name: "invalid number (refused by the API)",
    send: "rejected",
    finalState: "FAILED",
    failureReason: "INVALID_NUMBER",
    does: "API: 400 1010002 naming calleeNbr",
  },
  other: { name: "completed", send: "accepted", finalState: "COMPLETED", failureReason: "UNSPECIFIED", does: "callout, alerting, answer, disconnect 0, fee" },
};

/** yyyy-MM-dd HH:mm:ss, UTC, as Huawei's pushes carry times. */
const pushTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

interface BodyCheck {
  readonly call?: Omit<HuaweiFakeCall, "providerCallId">;
  readonly rejection?: Rejection;
}

const invalid = (field: string): BodyCheck => ({ rejection: reject("1010002", `Invalid request. The ${field} is invalid.`) });

function decodeUrl(value: unknown, maxEncoded: number): string | undefined | false {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > maxEncoded) return false;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  const url = Buffer.from(value, "base64").toString("utf8");
  return /^https?:\/\/[^\s]+$/.test(url) && URL.canParse(url) ? url : false;
}

function checkBody(raw: string, displayNumber: string): BodyCheck {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { rejection: reject("1010002", "Invalid request.") };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { rejection: reject("1010002", "Invalid request.") };
  const b = body as Record<string, unknown>;
  const globalNumber = (v: unknown) => typeof v === "string" && /^\+\d{3,30}$/.test(v);
  const textOf = (v: unknown, max: number) => typeof v === "string" && v.length >= 1 && v.length <= max;
  if (!globalNumber(b.displayNbr)) return invalid("displayNbr");
  if (!globalNumber(b.calleeNbr)) return invalid("calleeNbr");
  if (b.languageType !== 2) return invalid("languageType");
  if (!textOf(b.preTone, 128)) return invalid("preTone");
  if (b.posTone !== undefined && !textOf(b.posTone, 128)) return invalid("posTone");
  if (typeof b.verifyCode !== "string" || !/^\d{2,8}$/.test(b.verifyCode)) return invalid("verifyCode");
  if (b.times !== undefined && (!Number.isInteger(b.times) || (b.times as number) < 0 || (b.times as number) > 9)) {
    return invalid("times");
  }
  if (b.userData !== undefined && !textOf(b.userData, 256)) return invalid("userData");
  const statusUrl = decodeUrl(b.statusUrl, 128);
  if (statusUrl === false) return invalid("statusUrl");
  const feeUrl = decodeUrl(b.feeUrl, 1024);
  if (feeUrl === false) return invalid("feeUrl");
  if (b.displayNbr !== displayNumber) return { rejection: reject("1010023", "Display number invalid.") };
  return {
    call: {
      phoneNumber: b.calleeNbr as string,
      code: b.verifyCode,
      // The doc example plays 3 times; the default is not documented.
      playTimes: (b.times as number | undefined) ?? 3,
      echo: b.userData as string | undefined,
      statusUrl,
      feeUrl,
    },
  };
}

export async function startHuaweiFake(options: HuaweiFakeOptions = {}): Promise<HuaweiFake> {
  const appKey = options.appKey ?? "FakeAppKey0000000000000000A1";
  const appSecret = options.appSecret ?? "FakeAppSecret0000000000000000S1";
  const displayNumber = options.displayNumber ?? "+862088880000";
  const preTone = options.preTone ?? "voicecode-pre.wav";
  const stepMs = options.stepMs ?? 20;
  const retryMs = options.retryMs ?? 20;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const windowMs = options.createdWindowMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;

  const calls: HuaweiFakeCall[] = [];
  const deliveries: HuaweiDelivery[] = [];
  const forced: HuaweiForcedOutcome[] = [];
  const running = new Set<Promise<void>>();
  const stop = new AbortController();
  let fallbackUrl: string | undefined;
  let requestCount = 0;
  let sessionCounter = 0;
  let dropStateCodes = 0;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stop.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        stop.signal.removeEventListener("abort", done);
        resolve();
      }
      stop.signal.addEventListener("abort", done, { once: true });
    });

  /** One POST, signed the way the platform signs pushes (the receiver need not check it). */
  const post = async (url: string, body: string): Promise<{ status: number; body: string }> => {
    const nonce = randomBytes(16).toString("hex");
    const created = new Date(now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const digest = createHmac("sha256", appSecret).update(`${url}\n${nonce}\n${created}`).digest("base64");
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json;charset=UTF-8",
        authorization: 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"',
        "x-aksk": `UsernameToken Username="${appKey}",PasswordDigest="${digest}",Nonce="${nonce}",Created="${created}"`,
      },
      body,
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(2000)]),
    });
    return { status: response.status, body: await response.text() };
  };

  const deliver = async (urlOf: () => string | undefined, body: string): Promise<void> => {
    for (let attempt = 1; attempt <= maxAttempts && !stop.signal.aborted; attempt++) {
      const url = urlOf();
      let status: number | undefined;
      if (url !== undefined) {
        try {
          status = (await post(url, body)).status;
        } catch {
          status = undefined;
        }
      }
      if (stop.signal.aborted) return;
      deliveries.push({ url, body, status });
      if (status === 200) return;
      if (attempt < maxAttempts) await sleep(retryMs * 2 ** (attempt - 1));
    }
  };

  const playCall = async (call: HuaweiFakeCall): Promise<void> => {
    const steps = LIFECYCLES[outcomeFor(HUAWEI_FAKE_OUTCOMES, call.phoneNumber)] ?? COMPLETED;
    const times: Record<string, string> = {};
    for (const step of steps) {
      await sleep(stepMs);
      if (stop.signal.aborted) return;
      const at = pushTime(now());
      if (step.kind === "fee") {
        const record = {
          direction: 0,
          spId: "fake_sp",
          appKey,
          icid: randomBytes(16).toString("hex"),
          bindNum: displayNumber,
          sessionId: call.providerCallId,
          callerNum: displayNumber,
          calleeNum: call.phoneNumber,
          fwdDisplayNum: "",
          fwdDstNum: "",
          fwdStartTime: "",
          fwdAlertingTime: "",
          fwdAnswerTime: "",
          callEndTime: times.disconnect ?? at,
          fwdUnaswRsn: 0,
          failTime: step.answered ? "" : (times.disconnect ?? at),
          ulFailReason: 0,
          sipStatusCode: 0,
          callOutStartTime: times.callout ?? "",
          callOutAlertingTime: times.alerting ?? "",
          callOutAnswerTime: step.answered ? (times.answer ?? at) : "",
          callOutUnaswRsn: step.q850,
          recordFlag: 0,
          ttsPlayTimes: 0,
          ttsTransDuration: 0,
          serviceType: "003",
          hostName: "callenabler.fake.huaweicaas.com",
          ...(call.echo === undefined ? {} : { userData: call.echo }),
        };
        await deliver(() => call.feeUrl ?? fallbackUrl, JSON.stringify({ eventType: "fee", feeLst: [record] }));
        continue;
      }
      const eventType = step.kind === "disconnect" ? "disconnect" : step.eventType;
      times[eventType] = at;
      const dropCode = step.kind === "disconnect" && dropStateCodes > 0;
      if (dropCode) dropStateCodes--;
      const statusInfo = {
        sessionId: call.providerCallId,
        timestamp: at,
        caller: displayNumber,
        called: call.phoneNumber,
        ...(call.echo === undefined ? {} : { userData: call.echo }),
        ...(step.kind === "disconnect" && !dropCode ? { stateCode: step.stateCode } : {}),
        ...(step.kind === "disconnect" ? { stateDesc: step.stateDesc } : {}),
      };
      await deliver(() => call.statusUrl ?? fallbackUrl, JSON.stringify({ eventType, statusInfo }));
    }
  };

  const answer = (res: ServerResponse, status: number, body: object | string): void => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const type = typeof body === "string" ? "text/html" : "application/json;charset=UTF-8";
    res.writeHead(status, { "content-type": type }).end(text);
  };
  const refuse = (res: ServerResponse, r: Rejection): void => answer(res, 400, { resultcode: r.code, resultdesc: r.desc });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    if (req.method !== "POST" || req.url !== HUAWEI_FAKE_PATH) return answer(res, 404, "<html><body>Not Found</body></html>");
    requestCount++;

    const force = forced.shift();
    if (force === "hang") return;
    if (force === "reset") {
      req.socket.destroy();
      return;
    }
    if (force === "server-error") return answer(res, 502, "<html><body>502 Bad Gateway</body></html>");
    if (typeof force === "object") {
      res.writeHead(force.status, { "content-type": "application/json;charset=UTF-8" }).end(force.body);
      return;
    }
    // Some gateways echo what they refused: the request body, Base64 URLs and all.
    if (force === "quote-request") return refuse(res, reject("1010002", `Invalid request. The statusUrl is invalid: ${raw}`));
    if (force !== undefined) return refuse(res, FORCED[force]);

    const authProblem = verifyHuaweiAuth(req.headers, { appKey, appSecret }, now(), windowMs);
    if (authProblem !== undefined) return refuse(res, authProblem);
    if (!/^application\/json/i.test(one(req.headers["content-type"]) ?? "")) return refuse(res, reject("1010002", "Invalid request."));
    const checked = checkBody(raw, displayNumber);
    if (checked.rejection !== undefined) return refuse(res, checked.rejection);
    const accepted = checked.call;
    if (accepted === undefined) return refuse(res, reject("1020002", "Internal error."));
    const ending = outcomeFor(HUAWEI_FAKE_OUTCOMES, accepted.phoneNumber);
    if (ending === E.rateLimited) return refuse(res, FORCED["rate-limit"]);
    if (ending === F.refusedInvalidNumber) return refuse(res, FORCED["invalid-number"]);

    sessionCounter++;
    const stamp = new Date(now()).toISOString().replace(/\D/g, "").slice(0, 14);
    const call: HuaweiFakeCall = { ...accepted, providerCallId: `1200_${sessionCounter}_0_${stamp}@callenabler.fake.huaweicaas.com` };
    calls.push(call);
    // For answerLost the call is placed, but the answer never reaches the caller.
    if (ending === E.answerLost) res.socket?.destroy();
    else answer(res, 200, { resultcode: "0", resultdesc: "Success", sessionId: call.providerCallId });
    const play = playCall(call).finally(() => running.delete(play));
    running.add(play);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 500, "<html><body>fake failure</body></html>");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    provider: "huawei",
    outcomes: HUAWEI_FAKE_OUTCOMES,
    url,
    env: {
      VOICECODE_HUAWEI_APP_KEY: appKey,
      VOICECODE_HUAWEI_APP_SECRET: appSecret,
      VOICECODE_HUAWEI_ENDPOINT: url,
      VOICECODE_HUAWEI_DISPLAY_NUMBER: displayNumber,
      VOICECODE_HUAWEI_PRE_TONE: preTone,
    },
    appKey,
    appSecret,
    displayNumber,
    calls,
    deliveries,
    get requestCount() {
      return requestCount;
    },
    setCallbackUrl(callbackUrl) {
      fallbackUrl = callbackUrl;
    },
    failNext(outcome) {
      forced.push(outcome);
    },
    dropStateCodeNext(count = 1) {
      dropStateCodes += Math.max(0, count);
    },
    async pushRaw(body, target) {
      const to = target ?? fallbackUrl;
      if (to === undefined) throw new Error("huawei fake: no callback URL to push to");
      return post(to, typeof body === "string" ? body : JSON.stringify(body));
    },
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    async close() {
      stop.abort();
      await Promise.allSettled([...running]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
