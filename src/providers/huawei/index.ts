/**
 * Huawei Cloud Voice Call (语音通话), voice verification code: callVerify places the
 * call; status pushes (callout, alerting, answer, disconnect) and a CDR per call come
 * back to /webhooks/huawei/<token>, correlated by sessionId and by our call id echoed in
 * userData.
 */
import type { Provider } from "../../core/provider.js";
import type { Env, ProviderModule, ProviderSetup } from "../module.js";
import { callbackUrl, callbackUrlProblem } from "./callback-url.js";
import { checkHuaweiRequest } from "./check.js";
import { createHuaweiClient, type HuaweiClientOptions } from "./client.js";
import { HUAWEI_ENV_VARS, type HuaweiConfig, publicUrlOf, readHuaweiConfig } from "./config.js";
import { createRedactor } from "./redact.js";
import { createHuaweiWebhook } from "./webhook.js";

export const HUAWEI_PROVIDER_NAME = "huawei";

export type HuaweiProviderOptions = HuaweiClientOptions;

export function createHuaweiProvider(options: HuaweiProviderOptions): Provider {
  const client = createHuaweiClient(options);
  return {
    name: HUAWEI_PROVIDER_NAME,
    check: checkHuaweiRequest,
    send: (request, signal) => client.send(request, signal),
    webhook: createHuaweiWebhook({
      redact: createRedactor({ webhookToken: options.webhookToken, callbackUrl: options.callbackUrl }),
    }),
  };
}

export const huaweiModule: ProviderModule = {
  name: HUAWEI_PROVIDER_NAME,
  envVars: HUAWEI_ENV_VARS,
  configure(env: Env): ProviderSetup {
    const result = readHuaweiConfig(env);
    if (result.status !== "ok") return result;
    const config = result.data;
    return {
      status: "ready",
      webhookToken: config.webhookToken,
      summary: summarize(config, publicUrlOf(env)),
      create(deps) {
        const base = deps.webhookPublicUrl;
        if (base !== undefined) {
          // configure() checked the same URL from the environment; deps may differ in tests.
          const problem = callbackUrlProblem(base, config.webhookToken);
          if (problem !== undefined) throw new Error(problem);
        }
        return createHuaweiProvider({
          appKey: config.appKey,
          appSecret: config.appSecret,
          endpoint: config.endpoint,
          displayNumber: config.displayNumber,
          preTone: config.preTone,
          posTone: config.posTone,
          callbackUrl: base === undefined ? undefined : callbackUrl(base, config.webhookToken),
          webhookToken: config.webhookToken,
        });
      },
    };
  },
};

/** For the start-up log: no secret, no token, numbers masked. */
function summarize(config: HuaweiConfig, publicUrl: string | undefined): Record<string, string> {
  const route = "/webhooks/huawei/<VOICECODE_HUAWEI_WEBHOOK_TOKEN>";
  return {
    endpoint: config.endpoint,
    appKey: mask(config.appKey, 4, 0),
    displayNumber: mask(config.displayNumber, 6, 4),
    preTone: config.preTone,
    ...(config.posTone === undefined ? {} : { posTone: config.posTone }),
    callbacks:
      publicUrl === undefined
        ? `VOICECODE_WEBHOOK_PUBLIC_URL unset: no statusUrl/feeUrl sent, the app's console URLs apply (set them to <public URL>${route})`
        : `statusUrl and feeUrl sent with each call: ${publicUrl}${route}`,
  };
}

function mask(value: string, head: number, tail: number): string {
  if (value.length <= head + tail) return "****";
  return `${value.slice(0, head)}****${tail === 0 ? "" : value.slice(-tail)}`;
}

export { createHuaweiWebhook } from "./webhook.js";
export { HUAWEI_ENV } from "./config.js";
export type { HuaweiConfig } from "./config.js";
