/**
 * The SendCodeVoice call: build the signed request, send it through providerRequest,
 * and classify the answer the way Send needs it (accepted / rejected / ambiguous).
 *
 * Classification, whatever the HTTP status (Tencent's status on errors is not
 * documented): a `Response.Error` envelope is classified by its code (codes.ts); a
 * `Response.SendStatus.CallId` is accepted; anything else is ambiguous, except a 4xx,
 * which no Tencent front end answers after acting on a request.
 */
import { FailureReason } from "../../core/model.js";
import type { ProviderSendRequest, SendOutcome } from "../../core/provider.js";
import { type ProviderHttpResult, providerRequest } from "../http.js";
import { classifyApiError } from "./codes.js";
import { redactText } from "./redact.js";
import { signTc3 } from "./signer.js";
import { apiErrorSchema, type SendCodeVoiceBody, sendCodeVoiceSuccessSchema } from "./wire.js";

export const TENCENT_ACTION = "SendCodeVoice";
export const TENCENT_VERSION = "2020-09-02";
/** The credential-scope service. Fixed rather than read off the host, so an endpoint override (a proxy, the fake) signs the same. */
export const TENCENT_SERVICE = "vms";
export const TENCENT_CONTENT_TYPE = "application/json; charset=utf-8";
export const TENCENT_DEFAULT_ENDPOINT = "https://vms.tencentcloudapi.com";
export const TENCENT_DEFAULT_REGION = "ap-guangzhou";

/** The placeholder providerCode of an accepted send: Tencent's success carries no code. */
export const ACCEPTED_CODE = "OK";

const MAX_TEXT = 512;

export interface TencentClientOptions {
  readonly secretId: string;
  readonly secretKey: string;
  /** VoiceSdkAppid from the VMS console, e.g. "1400006666". */
  readonly sdkAppId: string;
  /** X-TC-Region, e.g. "ap-guangzhou". */
  readonly region: string;
  /** API base URL, e.g. "https://vms.tencentcloudapi.com". */
  readonly endpoint: string;
  /** Clock for X-TC-Timestamp. Default Date.now. */
  readonly now?: () => number;
}

export interface SendCodeVoiceHttpRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Exactly the signed bytes. */
  readonly body: string;
}

export interface TencentClient {
  sendCodeVoice(request: ProviderSendRequest, signal: AbortSignal): Promise<SendOutcome>;
}

/** The body of one SendCodeVoice request; our call id rides in SessionContext. */
export function sendCodeVoiceBody(sdkAppId: string, request: ProviderSendRequest): SendCodeVoiceBody {
  return {
    CodeMessage: request.code,
    CalledNumber: request.phoneNumber,
    VoiceSdkAppid: sdkAppId,
    PlayTimes: request.playTimes,
    SessionContext: request.callId,
  };
}

/** Builds the signed HTTP request (pure: the timestamp comes in). */
export function buildSendCodeVoiceRequest(
  options: TencentClientOptions,
  request: ProviderSendRequest,
  timestampSec: number,
): SendCodeVoiceHttpRequest {
  const url = new URL(options.endpoint);
  const body = JSON.stringify(sendCodeVoiceBody(options.sdkAppId, request));
  const signed = signTc3({
    // The hostname, never the port: the official SDK (tencentcloud-sdk-nodejs-common
    // sign.js) signs `host:${new URL(url).hostname}` while sending `Host: url.host`, and
    // Tencent verifies what its SDK signs. The two differ only for an explicit,
    // non-default port (a proxy, the fake); signing the port would then be refused.
    host: url.hostname,
    path: url.pathname === "" ? "/" : url.pathname,
    service: TENCENT_SERVICE,
    contentType: TENCENT_CONTENT_TYPE,
    payload: body,
    timestampSec,
    secretId: options.secretId,
    secretKey: options.secretKey,
  });
  return {
    url: url.href,
    headers: {
      Authorization: signed.authorization,
      "Content-Type": TENCENT_CONTENT_TYPE,
      // With the port, as the SDK's http_connection.js sends it (only the signature drops it).
      Host: url.host,
      "X-TC-Action": TENCENT_ACTION,
      "X-TC-Timestamp": String(timestampSec),
      "X-TC-Version": TENCENT_VERSION,
      "X-TC-Region": options.region,
    },
    body,
  };
}

/** A SendCodeVoice client over providerRequest. */
export function createTencentClient(options: TencentClientOptions): TencentClient {
  const now = options.now ?? Date.now;
  return {
    async sendCodeVoice(request, signal) {
      const http = buildSendCodeVoiceRequest(options, request, Math.floor(now() / 1000));
      const result = await providerRequest({ ...http, signal });
      return classifySendCodeVoiceResult(result, [request.code]);
    },
  };
}

/**
 * Classifies one exchange. `secrets` (the spoken code) are masked out of any provider
 * text, as are phone-number-like digit runs.
 */
export function classifySendCodeVoiceResult(result: ProviderHttpResult, secrets: readonly string[] = []): SendOutcome {
  if (result.kind === "not-sent") {
    return {
      kind: "rejected",
      reason: FailureReason.PROVIDER_ERROR,
      providerCode: "",
      providerText: `no call was placed: ${result.detail}`,
    };
  }
  if (result.kind === "ambiguous") return { kind: "ambiguous", detail: result.detail };

  const clientError = result.status >= 400 && result.status < 500;
  let json: unknown;
  try {
    json = JSON.parse(result.body);
  } catch {
    return unrecognized(result.status, clientError, "an unparseable body");
  }

  const error = apiErrorSchema.safeParse(json);
  if (error.success) {
    const { Code: code, Message: message } = error.data.Response.Error;
    const text = describe(redactText(message ?? "", secrets), error.data.Response.RequestId);
    const classified = classifyApiError(code);
    if (classified.kind === "ambiguous") return { kind: "ambiguous", detail: `${code}: ${text}` };
    return {
      kind: "rejected",
      reason: classified.reason,
      providerCode: code,
      providerText: text,
      ...(classified.scope === undefined ? {} : { scope: classified.scope }),
    };
  }

  const success = sendCodeVoiceSuccessSchema.safeParse(json);
  if (success.success) {
    const { SendStatus, RequestId } = success.data.Response;
    return {
      kind: "accepted",
      providerCallId: SendStatus.CallId,
      providerCode: ACCEPTED_CODE,
      providerText: describe("accepted", RequestId),
    };
  }
  return unrecognized(result.status, clientError, "a body that is neither a SendStatus nor an Error");
}

function unrecognized(status: number, clientError: boolean, what: string): SendOutcome {
  const detail = `HTTP ${status} with ${what}`;
  // A 4xx is the front end refusing the request; a 2xx or 5xx may follow a placed call.
  if (clientError) {
    return { kind: "rejected", reason: FailureReason.PROVIDER_ERROR, providerCode: `HTTP ${status}`, providerText: detail };
  }
  return { kind: "ambiguous", detail };
}

function describe(text: string, requestId: string | null | undefined): string {
  const capped = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
  return requestId === undefined || requestId === null || requestId === "" ? capped : `${capped} (RequestId ${requestId})`;
}
