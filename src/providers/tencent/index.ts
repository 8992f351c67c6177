/**
 * Tencent Cloud VMS (语音消息) SendCodeVoice, API 3.0 version 2020-09-02: the adapter
 * object and the module that configures it from VOICECODE_TENCENT_* variables.
 * Callbacks arrive at the URL entered in the VMS console (事件回调):
 * <public webhook base>/webhooks/tencent/<VOICECODE_TENCENT_WEBHOOK_TOKEN>.
 */
import type { Provider } from "../../core/provider.js";
import type { ProviderModule, ProviderSetup } from "../module.js";
import { createTencentClient, type TencentClientOptions } from "./client.js";
import { readTencentConfig, TENCENT_ENV_VARS } from "./config.js";
import { checkTencentLimits } from "./limits.js";
import { createTencentWebhook } from "./webhook.js";

export const TENCENT_PROVIDER_NAME = "tencent";

export type TencentProviderOptions = TencentClientOptions;

/** The Tencent adapter: limits check, SendCodeVoice, callback parsing. */
export function createTencentProvider(options: TencentProviderOptions): Provider {
  const client = createTencentClient(options);
  return {
    name: TENCENT_PROVIDER_NAME,
    check: checkTencentLimits,
    send: (request, signal) => client.sendCodeVoice(request, signal),
    webhook: createTencentWebhook(),
  };
}

export const tencentModule: ProviderModule = {
  name: TENCENT_PROVIDER_NAME,
  envVars: TENCENT_ENV_VARS,
  // SendCodeVoice's documented default frequency limit (cloud.tencent.com/document/product/1128/51559).
  requestsPerSecond: 20,
  configure(env): ProviderSetup {
    const read = readTencentConfig(env);
    if (read.status !== "ok") return read;
    const { webhookToken, ...options } = read.data;
    return {
      status: "ready",
      webhookToken,
      summary: { endpoint: options.endpoint, region: options.region, sdkAppId: options.sdkAppId },
      create: () => createTencentProvider(options),
    };
  },
};

export { TENCENT_ENV, TENCENT_ENV_VARS, readTencentConfig } from "./config.js";
export type { TencentConfig } from "./config.js";
export {
  TENCENT_ACTION,
  TENCENT_CONTENT_TYPE,
  TENCENT_DEFAULT_ENDPOINT,
  TENCENT_DEFAULT_REGION,
  TENCENT_VERSION,
  createTencentClient,
} from "./client.js";
export { checkTencentLimits } from "./limits.js";
export { createTencentWebhook, parseTencentCallback } from "./webhook.js";
export { signTc3 } from "./signer.js";
