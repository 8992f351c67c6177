/**
 * One CodeCallOut.wx request, classified the way Send needs it: accepted (statusCode
 * "0" with a requestId), rejected (a non-zero statusCode: ytx placed no call), or
 * ambiguous (the call may have been placed but we cannot tell: -100, or an answer that
 * contradicts itself).
 */
import { FailureReason } from "../../core/model.js";
import type { ProviderSendRequest, SendOutcome } from "../../core/provider.js";
import { providerRequest } from "../http.js";
import { toYtxDst } from "./check.js";
import { YTX_API_CODES, YTX_OK, apiCodeIsAmbiguous, apiFailureReason } from "./codes.js";
import { parseJsonLossless } from "./json.js";
import { maskApiText } from "./mask.js";
import { signYtxRequest } from "./signer.js";
import { YTX_ACTION, type YtxApiResponse, type YtxCodeCallOutBody, ytxApiResponseSchema } from "./wire.js";

export const YTX_API_VERSION = "201512";

export interface YtxClientOptions {
  readonly accountSid: string;
  readonly authToken: string;
  readonly appId: string;
  /**
   * dstclid, the number to show the callee; omitted when undefined. ytx documents the
   * feature as not open yet (此功能暂未开放, "defaults to the callee's number"), so it is
   * sent as configured but may have no effect.
   */
  readonly displayNumber?: string;
  /** API base URL without a trailing slash, e.g. http://api.ytx.net. */
  readonly endpoint: string;
  /** Clock for the request timestamp. Default Date.now. */
  readonly now?: () => number;
}

export interface YtxClient {
  send(request: ProviderSendRequest, signal: AbortSignal): Promise<SendOutcome>;
}

/** A client for CodeCallOut.wx; send() never throws for network or API failures. */
export function createYtxClient(options: YtxClientOptions): YtxClient {
  const now = options.now ?? Date.now;
  const path = `/${YTX_API_VERSION}/sid/${encodeURIComponent(options.accountSid)}/call/CodeCallOut.wx`;

  return {
    async send(request, signal) {
      const dst = toYtxDst(request.phoneNumber);
      if ("problem" in dst) {
        // check() normally stops this first; never let it reach ytx.
        return refused(FailureReason.INVALID_NUMBER, "", `no call was placed: ${dst.problem}`);
      }
      const body: YtxCodeCallOutBody = {
        action: YTX_ACTION,
        dst: dst.dst,
        appid: options.appId,
        code: request.code,
        time: String(request.playTimes),
        ...(options.displayNumber === undefined ? {} : { dstclid: options.displayNumber }),
      };
      const signature = signYtxRequest(options, now());
      const result = await providerRequest({
        url: `${options.endpoint}${path}?Sign=${signature.sign}`,
        headers: {
          accept: "application/json",
          "content-type": "application/json;charset=utf-8",
          authorization: signature.authorization,
        },
        body: JSON.stringify(body),
        signal,
      });
      if (result.kind === "not-sent") {
        return refused(FailureReason.PROVIDER_ERROR, "", `no call was placed: ${result.detail}`);
      }
      if (result.kind === "ambiguous") return { kind: "ambiguous", detail: `ytx: ${result.detail}` };
      // statusMsg may quote the request: the code must never be stored (numbers, 10+
      // digits with an area code, are masked as every long digit run is).
      return classifyResponse(result.status, result.body, [request.code]);
    },
  };
}

/**
 * Maps one HTTP answer of CodeCallOut.wx onto a SendOutcome; `secrets` (the code) are
 * masked out of the stored provider text, as are phone-like digit runs.
 */
export function classifyResponse(status: number, text: string, secrets: readonly string[] = []): SendOutcome {
  const parsed = parseApiResponse(text);
  if (parsed === undefined) {
    // No ytx answer at all: a 2xx or 5xx may come from a server that acted on the request,
    // anything else (404 from a wrong endpoint, a proxy's 4xx) did not reach the API.
    if ((status >= 200 && status < 300) || status >= 500) {
      return { kind: "ambiguous", detail: `ytx: HTTP ${status} with an unreadable body` };
    }
    return refused(FailureReason.PROVIDER_ERROR, `HTTP ${status}`, `no call was placed: HTTP ${status} with an unreadable body`);
  }
  const message = maskApiText(parsed.statusMsg ?? "", secrets);
  const requestId = parsed.requestId?.trim() ?? "";
  if (parsed.statusCode !== YTX_OK) {
    if (apiCodeIsAmbiguous(parsed.statusCode) || requestId !== "") {
      // A refusal carries an empty requestId (seed, 异常示例); one that names a request,
      // or a generic exception, does not prove that no call was placed.
      return { kind: "ambiguous", detail: `ytx: statusCode ${parsed.statusCode}${requestId === "" ? "" : " with a requestId"}` };
    }
    const known = Object.hasOwn(YTX_API_CODES, parsed.statusCode) ? YTX_API_CODES[parsed.statusCode] : undefined;
    return refused(apiFailureReason(parsed.statusCode), parsed.statusCode, message || known?.text || "");
  }
  if (status < 200 || status >= 300 || requestId === "") {
    // ytx says it took the call, yet something is off: it may ring, we cannot track it.
    const why = requestId === "" ? "without a requestId" : `with HTTP ${status}`;
    return { kind: "ambiguous", detail: `ytx: statusCode 0 ${why}` };
  }
  return { kind: "accepted", providerCallId: requestId, providerCode: YTX_OK, providerText: message };
}

function parseApiResponse(text: string): YtxApiResponse | undefined {
  let json: unknown;
  try {
    json = parseJsonLossless(text);
  } catch {
    return undefined;
  }
  const result = ytxApiResponseSchema.safeParse(json);
  return result.success ? result.data : undefined;
}

function refused(reason: FailureReason, providerCode: string, providerText: string): SendOutcome {
  return { kind: "rejected", reason, providerCode, providerText };
}
