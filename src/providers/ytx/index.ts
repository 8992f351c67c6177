/**
 * The ytx.net (云讯科技) provider: voice verification codes through xunzhong.codeCallOut
 * (CodeCallOut.wx, API version 201512). Mainland China numbers only. The status push
 * format is undocumented, so calls are tracked as far as the push can be recognised
 * (see codes.ts); the provider call id is the requestId of the API answer.
 */
import type { Logger } from "pino";
import type { Provider } from "../../core/provider.js";
import type { ProviderModule, ProviderSetup } from "../module.js";
import { checkYtxRequest } from "./check.js";
import { createYtxClient, type YtxClientOptions } from "./client.js";
import { YTX_OPTIONAL_ENV, YTX_REQUIRED_ENV, readYtxConfig, summarizeYtxConfig } from "./config.js";
import { createYtxWebhook } from "./webhook.js";

export const YTX_PROVIDER_NAME = "ytx";

export interface YtxProviderOptions extends YtxClientOptions {
  /** Already bound to this provider by the caller (the server adds `provider`). */
  readonly logger?: Logger;
}

/** The ytx adapter: check() holds ytx's limits, send() one CodeCallOut.wx request. */
export function createYtxProvider(options: YtxProviderOptions): Provider {
  const client = createYtxClient(options);
  const { logger } = options;
  return {
    name: YTX_PROVIDER_NAME,
    check: checkYtxRequest,
    send: (request, signal) => client.send(request, signal),
    webhook: createYtxWebhook(logger === undefined ? {} : { logger }),
  };
}

export const ytxModule: ProviderModule = {
  name: YTX_PROVIDER_NAME,
  envVars: [...YTX_REQUIRED_ENV, ...YTX_OPTIONAL_ENV],
  configure(env): ProviderSetup {
    const result = readYtxConfig(env);
    if (result.status !== "ok") return result;
    const { config } = result;
    return {
      status: "ready",
      webhookToken: config.webhookToken,
      summary: summarizeYtxConfig(config),
      create: (deps) =>
        createYtxProvider({
          accountSid: config.accountSid,
          authToken: config.authToken,
          appId: config.appId,
          endpoint: config.endpoint,
          logger: deps.logger,
          ...(config.displayNumber === undefined ? {} : { displayNumber: config.displayNumber }),
        }),
    };
  },
};

export { checkYtxRequest, toYtxDst } from "./check.js";
export { createYtxClient } from "./client.js";
export type { YtxClient, YtxClientOptions } from "./client.js";
export { YTX_API_CODES, YTX_PUSH_WORDS } from "./codes.js";
export { YTX_ENV, YTX_HOSTS, readYtxConfig } from "./config.js";
export type { YtxConfig } from "./config.js";
export { signYtxRequest, ytxAuthorization, ytxSign } from "./signer.js";
export { createYtxWebhook } from "./webhook.js";
