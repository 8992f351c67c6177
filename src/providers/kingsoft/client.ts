/**
 * CallVerify: one signed form POST to the OpenAPI endpoint, its answer classified the
 * way Send needs it. HTTP 200 with a CallId is accepted; a documented error body is
 * refused or ambiguous by its code (codes.ts); a 5xx or a 2xx we cannot read may have
 * placed the call (ambiguous); a non-2xx we cannot read is a refusal.
 */
import { FailureReason } from "../../core/model.js";
import type { ProviderNotifyRequest, ProviderSendRequest, SendOutcome } from "../../core/provider.js";
import { type ProviderHttpResult, providerRequest } from "../http.js";
import { apiErrorMeaning } from "./codes.js";
import { mainlandMobile } from "./limits.js";
import { formBody, signRequest } from "./signer.js";
import type { KingsoftTemplates } from "./templates.js";
import { type ApiErrorBody, apiErrorSchema, callVerifySuccessSchema } from "./wire.js";

export interface KingsoftClientOptions {
  /** OpenAPI base URL, e.g. https://voice.api.ksyun.com/ (the request goes to it as is). */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** System template id (TplId), e.g. "100001". */
  readonly templateId: string;
  /** Display number (Caller); the account's default when undefined. */
  readonly caller?: string | undefined;
  /** Region common parameter, e.g. cn-beijing-6; omitted when undefined. */
  readonly region?: string | undefined;
  /** Clock for the signed Timestamp. Default Date.now. */
  readonly now?: () => number;
  /** Notification templates (logical name -> TplId); empty: no notifications. */
  readonly templates?: KingsoftTemplates;
}

export interface KingsoftClient {
  send(request: ProviderSendRequest, signal: AbortSignal): Promise<SendOutcome>;
  /** CallNotify, or CallIvr when the request collects a key press. */
  notify(request: ProviderNotifyRequest, signal: AbortSignal): Promise<SendOutcome>;
}

/** ExtId is echoed in the status report; the doc allows at most 50 alphanumerics. */
const EXT_ID = /^[0-9A-Za-z]{1,50}$/;
const MAX_TEXT = 512;

export function createKingsoftClient(options: KingsoftClientOptions): KingsoftClient {
  const now = options.now ?? Date.now;
  return {
    async send(request, signal) {
      const mobile = mainlandMobile(request.phoneNumber);
      if (mobile === undefined) {
        // check() keeps such numbers away; this is the guard if it was skipped.
        return notPlaced(FailureReason.INVALID_NUMBER, "not a mainland China mobile number");
      }
      const business: Record<string, string> = {
        Mobile: mobile,
        TplId: options.templateId,
        Code: request.code,
        PlayTimes: String(request.playTimes),
      };
      if (options.caller !== undefined) business.Caller = options.caller;
      // Our ULIDs always fit; anything else goes without the echo and is matched by CallId.
      if (EXT_ID.test(request.callId)) business.ExtId = request.callId;
      return post("CallVerify", business, [mobile, request.code], signal);
    },

    async notify(request, signal) {
      const mobile = mainlandMobile(request.phoneNumber);
      const template = options.templates?.get(request.templateName);
      // checkNotify() keeps both away; these are the guards if it was skipped.
      if (mobile === undefined) return notPlaced(FailureReason.INVALID_NUMBER, "not a mainland China mobile number");
      if (template === undefined) return notPlaced(FailureReason.CONFIG_ERROR, "no such kingsoft template configured");
      const business: Record<string, string> = {
        Mobile: mobile,
        TplId: template.id,
        // The seed: a JSON object of the template's variables, {} when it has none.
        TplParams: JSON.stringify(request.templateParams),
      };
      const caller = request.displayNumber ?? options.caller;
      if (caller !== undefined) business.Caller = caller;
      if (EXT_ID.test(request.callId)) business.ExtId = request.callId;
      const action = request.collectKeyPress ? "CallIvr" : "CallNotify";
      // The values may be personal data: masked out of any provider message kept.
      return post(action, business, [mobile, ...Object.values(request.templateParams)], signal);
    },
  };

  async function post(
    action: string,
    business: Readonly<Record<string, string>>,
    secrets: readonly string[],
    signal: AbortSignal,
  ): Promise<SendOutcome> {
    const params = signRequest({
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      action,
      timestampMs: now(),
      region: options.region,
      business,
    });
    const result = await providerRequest({
      url: options.endpoint,
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: formBody(params),
      signal,
    });
    // CallNotify and CallIvr answer exactly as CallVerify does (the seed's examples).
    return classifyCallVerify(result, secrets);
  }
}

/**
 * The outcome of one CallVerify exchange. `secrets` (the number and the code) are
 * masked out of any provider message before it is kept or logged.
 */
export function classifyCallVerify(result: ProviderHttpResult, secrets: readonly string[]): SendOutcome {
  if (result.kind === "not-sent") return notPlaced(FailureReason.PROVIDER_ERROR, result.detail);
  if (result.kind === "ambiguous") return { kind: "ambiguous", detail: `kingsoft: ${result.detail}` };
  const { status } = result;
  const json = parseJson(result.body);
  if (status >= 200 && status < 300) {
    const ok = callVerifySuccessSchema.safeParse(json);
    if (ok.success) {
      return {
        kind: "accepted",
        providerCallId: ok.data.CallId,
        providerCode: String(status),
        providerText: requestIdText(ok.data.RequestId) || "OK",
      };
    }
  }
  const error = apiErrorSchema.safeParse(json);
  if (error.success) {
    const code = error.data.Error.Code;
    const text = errorText(error.data, secrets);
    const meaning = apiErrorMeaning(code, status);
    if (meaning.kind === "ambiguous") {
      return { kind: "ambiguous", detail: `kingsoft ${code} (HTTP ${status}): ${text}` };
    }
    return {
      kind: "rejected",
      reason: meaning.reason,
      providerCode: code,
      providerText: text,
      ...(meaning.scope === undefined ? {} : { scope: meaning.scope }),
    };
  }
  if (status >= 200 && status < 300) {
    return { kind: "ambiguous", detail: `kingsoft: HTTP ${status} without a CallId` };
  }
  if (status >= 500) {
    return { kind: "ambiguous", detail: `kingsoft: HTTP ${status} with an unreadable body` };
  }
  return {
    kind: "rejected",
    reason: FailureReason.PROVIDER_ERROR,
    providerCode: `HTTP ${status}`,
    providerText: "unreadable error body",
  };
}

function notPlaced(reason: FailureReason, detail: string): SendOutcome {
  return { kind: "rejected", reason, providerCode: "", providerText: `no call was placed: ${detail}` };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function requestIdText(requestId: string | null | undefined): string {
  return requestId === undefined || requestId === null || requestId === "" ? "" : `RequestId ${requestId}`;
}

/** "Message (RequestId ...)": support asks for the RequestId. */
function errorText(body: ApiErrorBody, secrets: readonly string[]): string {
  let message = body.Error.Message ?? "";
  for (const secret of secrets) {
    if (secret !== "") message = message.replaceAll(secret, "***");
  }
  message = message.slice(0, MAX_TEXT);
  const id = requestIdText(body.RequestId);
  if (id === "") return message;
  return message === "" ? id : `${message} (${id})`;
}
