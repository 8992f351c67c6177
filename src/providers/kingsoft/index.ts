/**
 * Kingsoft Cloud (ksyun) voice, OpenAPI 2020-05-01: CallVerify places a code call,
 * CallNotify a template notification and CallIvr one answered by a key press; the
 * status reports of all three come as batched HTTP pushes to the callback URL set in the console
 * (语音消息 > 系统设置), which for us is https://<public webhook host>/webhooks/kingsoft/<token>.
 */
import type { Provider } from "../../core/provider.js";
import type { ProviderModule } from "../module.js";
import { type KingsoftClientOptions, createKingsoftClient } from "./client.js";
import { KINGSOFT_ENV, kingsoftSummary, readKingsoftConfig } from "./config.js";
import { checkKingsoftRequest } from "./limits.js";
import { checkKingsoftNotify } from "./notify-limits.js";
import { createKingsoftWebhook } from "./webhook.js";

export const KINGSOFT_PROVIDER_NAME = "kingsoft";

export type KingsoftProviderOptions = KingsoftClientOptions;

/** The adapter: limits, CallVerify, CallNotify, CallIvr and the status-report parser. */
export function createKingsoftProvider(options: KingsoftProviderOptions): Provider {
  const client = createKingsoftClient(options);
  return {
    name: KINGSOFT_PROVIDER_NAME,
    check: checkKingsoftRequest,
    send: (request, signal) => client.send(request, signal),
    notifies: ["notification", "ivr"],
    checkNotify: checkKingsoftNotify(options.templates ?? new Map()),
    notify: (request, signal) => client.notify(request, signal),
    webhook: createKingsoftWebhook(),
  };
}

export const kingsoftModule: ProviderModule = {
  name: KINGSOFT_PROVIDER_NAME,
  envVars: Object.values(KINGSOFT_ENV),
  configure(env) {
    const read = readKingsoftConfig(env);
    if (read.status !== "ok") return read;
    const config = read.data;
    return {
      status: "ready",
      webhookToken: config.webhookToken,
      summary: kingsoftSummary(config),
      // The callback URL is fixed in the console, so webhookPublicUrl is not needed.
      create: () =>
        createKingsoftProvider({
          endpoint: config.endpoint,
          accessKey: config.accessKey,
          secretKey: config.secretKey,
          templateId: config.templateId,
          caller: config.caller,
          region: config.region,
          templates: config.templates,
        }),
    };
  },
};

export { KINGSOFT_DEFAULT_ENDPOINT, KINGSOFT_ENV, KINGSOFT_SYSTEM_TEMPLATES } from "./config.js";
export type { KingsoftConfig } from "./config.js";
export { parseKingsoftTemplates } from "./templates.js";
export type { KingsoftTemplate, KingsoftTemplates } from "./templates.js";
export { createKingsoftWebhook, parseKingsoftPush } from "./webhook.js";
