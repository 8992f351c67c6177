/**
 * callVerify (POST {APP access address}/rest/httpsessions/callVerify/v1.0): builds and
 * signs the request, sends it through providerRequest and classifies the answer.
 *
 * - HTTP 2xx, resultcode "0" and a sessionId → accepted; the sessionId is the key of
 *   every later push.
 * - Any other documented answer (a resultcode, whatever the HTTP status) → rejected:
 *   without a session the platform has placed no call.
 * - resultcode "0" without a sessionId, or a 2xx / 5xx body that is not Huawei's JSON
 *   → ambiguous (a gateway page in front of a platform that may have acted).
 * - Any other unreadable answer (4xx) → rejected PROVIDER_ERROR.
 */
import { FailureReason } from "../../core/model.js";
import type { ProviderSendRequest, SendOutcome } from "../../core/provider.js";
import { type ProviderHttpResult, providerRequest } from "../http.js";
import { encodeCallbackUrl } from "./callback-url.js";
import { API_RESULT_CODES, SUCCESS_RESULT_CODE, apiFailureReason } from "./codes.js";
import { type Redactor, createRedactor } from "./redact.js";
import { akskHeaders, createNonce, formatCreated } from "./signer.js";
import { type CallVerifyResponse, callVerifyResponseSchema } from "./wire.js";

export const CALL_VERIFY_PATH = "/rest/httpsessions/callVerify/v1.0";

/** Chinese, the only languageType the API lists. */
const LANGUAGE_CHINESE = 2;

const MAX_PROVIDER_TEXT = 256;

export interface HuaweiClientOptions {
  readonly appKey: string;
  readonly appSecret: string;
  /** The app's access address from the console, e.g. https://rtccall.cn-north-1.myhuaweicloud.cn:443. */
  readonly endpoint: string;
  /** displayNbr: the purchased number shown to the callee. */
  readonly displayNumber: string;
  /** preTone: an approved .wav played before the code. */
  readonly preTone: string;
  /** posTone: an approved .wav played after the code. */
  readonly posTone?: string | undefined;
  /**
   * Our push URL, sent (Base64) as statusUrl and feeUrl. Undefined: omitted, and the
   * app-level URLs entered in the console apply.
   */
  readonly callbackUrl?: string | undefined;
  /**
   * Our webhook token (VOICECODE_HUAWEI_WEBHOOK_TOKEN), which the callback URL carries:
   * masked in every Huawei text we keep, even when the URL is the console's.
   */
  readonly webhookToken?: string | undefined;
  /** Clock for the Created stamp. Default Date.now. */
  readonly now?: () => number;
  /** Default: 32 random upper-case hex characters. */
  readonly nonce?: () => string;
}

export interface HuaweiClient {
  send(request: ProviderSendRequest, signal: AbortSignal): Promise<SendOutcome>;
}

export function createHuaweiClient(options: HuaweiClientOptions): HuaweiClient {
  const url = `${options.endpoint.replace(/\/+$/, "")}${CALL_VERIFY_PATH}`;
  const now = options.now ?? Date.now;
  const nonce = options.nonce ?? createNonce;
  const encodedCallback = options.callbackUrl === undefined ? undefined : encodeCallbackUrl(options.callbackUrl);
  const redact = createRedactor({ webhookToken: options.webhookToken, callbackUrl: options.callbackUrl });

  return {
    async send(request, signal) {
      const body = JSON.stringify(callVerifyBody(options, encodedCallback, request));
      const headers = {
        "content-type": "application/json;charset=UTF-8",
        accept: "application/json",
        ...akskHeaders({
          appKey: options.appKey,
          appSecret: options.appSecret,
          nonce: nonce(),
          created: formatCreated(now()),
        }),
      };
      return classifyCallVerify(await providerRequest({ url, headers, body, signal }), [request.code], redact);
    },
  };
}

/** The request body; our call id rides in userData, which every push echoes back. */
export function callVerifyBody(
  options: Pick<HuaweiClientOptions, "displayNumber" | "preTone" | "posTone">,
  encodedCallback: string | undefined,
  request: ProviderSendRequest,
): Record<string, string | number> {
  return {
    displayNbr: options.displayNumber,
    calleeNbr: request.phoneNumber,
    languageType: LANGUAGE_CHINESE,
    preTone: options.preTone,
    ...(options.posTone === undefined ? {} : { posTone: options.posTone }),
    verifyCode: request.code,
    times: request.playTimes,
    ...(encodedCallback === undefined ? {} : { statusUrl: encodedCallback, feeUrl: encodedCallback }),
    userData: request.callId,
  };
}

/**
 * `codes` (the spoken code) are masked out of Huawei's description, together with any
 * phone number and, through `redact`, the webhook token: resultdesc names, and may
 * quote, the parameter it refused, or the whole request.
 */
export function classifyCallVerify(
  result: ProviderHttpResult,
  codes: readonly string[] = [],
  redact: Redactor = createRedactor({}),
): SendOutcome {
  if (result.kind === "not-sent") {
    return { kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: "", providerText: `no call was placed: ${result.detail}` };
  }
  if (result.kind === "ambiguous") return { kind: "ambiguous", detail: result.detail };

  const { status } = result;
  const success = status >= 200 && status < 300;
  const parsed = parseBody(result.body);
  if (parsed === undefined) {
    if (success || status >= 500) return { kind: "ambiguous", detail: `HTTP ${status} with a body that is not Huawei's JSON` };
    return { kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: `http:${status}`, providerText: `HTTP ${status} with an unreadable body` };
  }
  const { resultcode, resultdesc, sessionId } = parsed;
  if (resultcode === SUCCESS_RESULT_CODE) {
    if (success && sessionId !== undefined && sessionId !== "") {
      const text = redact(resultdesc ?? "Success", codes).slice(0, MAX_PROVIDER_TEXT);
      return { kind: "accepted", providerCallId: sessionId, providerCode: resultcode, providerText: text };
    }
    return { kind: "ambiguous", detail: `HTTP ${status}, resultcode 0 without a usable sessionId` };
  }
  const text = resultdesc ?? API_RESULT_CODES.get(resultcode)?.text ?? "";
  return {
    kind: "rejected",
    // The raw text: the reason depends on which parameter it names.
    reason: apiFailureReason(resultcode, text),
    providerCode: resultcode,
    providerText: redact(text, codes).slice(0, MAX_PROVIDER_TEXT),
  };
}

function parseBody(body: string): CallVerifyResponse | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = callVerifyResponseSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
