/**
 * ytx's environment variables, read once at start-up. Credentials come from the ytx
 * console (管理-控制台-开发者主账号); the app id must match the environment (a sandbox
 * test app on sandbox.ytx.net, a launched app of your own on api.ytx.net), otherwise ytx
 * answers -205.
 */
import { z } from "zod";
import { readProviderEnv } from "../configure.js";
import type { Env } from "../module.js";

export const YTX_ENV = {
  accountSid: "VOICECODE_YTX_ACCOUNT_SID",
  authToken: "VOICECODE_YTX_AUTH_TOKEN",
  appId: "VOICECODE_YTX_APP_ID",
  displayNumber: "VOICECODE_YTX_DISPLAY_NUMBER",
  environment: "VOICECODE_YTX_ENVIRONMENT",
  endpoint: "VOICECODE_YTX_ENDPOINT",
  webhookToken: "VOICECODE_YTX_WEBHOOK_TOKEN",
} as const;

export const YTX_REQUIRED_ENV = [YTX_ENV.accountSid, YTX_ENV.authToken, YTX_ENV.appId, YTX_ENV.webhookToken] as const;
export const YTX_OPTIONAL_ENV = [YTX_ENV.displayNumber, YTX_ENV.environment, YTX_ENV.endpoint] as const;

/** Plain http is what ytx documents and every public sample uses; HTTPS is unconfirmed. */
export const YTX_HOSTS = {
  production: "http://api.ytx.net",
  sandbox: "http://sandbox.ytx.net",
} as const;

export type YtxEnvironment = keyof typeof YTX_HOSTS;

export interface YtxConfig {
  readonly accountSid: string;
  readonly authToken: string;
  readonly appId: string;
  readonly displayNumber: string | undefined;
  readonly environment: YtxEnvironment;
  /** Base URL without a trailing slash: the override, else the environment's host. */
  readonly endpoint: string;
  readonly webhookToken: string;
}

const identifier = (what: string) =>
  z.string().regex(/^[A-Za-z0-9]{1,64}$/, `${what} is 1-64 letters and digits (it goes into the URL path or body)`);

/**
 * The endpoint is printed in the start-up summary, so it may carry no credentials; a
 * bare "?" or "#" (which URL parses to an empty search) would break the path appended.
 */
const endpointUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === "http:" || url.protocol === "https:") &&
        !/[?#]/.test(value) &&
        url.username === "" &&
        url.password === ""
      );
    } catch {
      return false;
    }
  }, "must be an http(s) URL without credentials, query or fragment, e.g. http://api.ytx.net")
  .transform((value) => value.replace(/\/+$/, ""));

const schema = z.object({
  [YTX_ENV.accountSid]: identifier("the ACCOUNT SID"),
  [YTX_ENV.authToken]: z.string().regex(/^[\x21-\x7e]{1,128}$/, "the AUTH TOKEN is 1-128 printable characters without spaces"),
  [YTX_ENV.appId]: identifier("the app id"),
  [YTX_ENV.displayNumber]: z
    .string()
    .regex(/^\d{3,20}$/, "digits only, as ytx dials it (a landline with its area code); note ytx documents dstclid as not open yet")
    .optional(),
  [YTX_ENV.environment]: z.enum(["production", "sandbox"]).default("production"),
  [YTX_ENV.endpoint]: endpointUrl.optional(),
  [YTX_ENV.webhookToken]: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,}$/, "at least 16 characters of A-Z a-z 0-9 _ - (it is a secret URL path segment)"),
});

export type YtxConfigResult =
  | { readonly status: "absent" }
  | { readonly status: "incomplete"; readonly missing: readonly string[] }
  | { readonly status: "invalid"; readonly errors: readonly string[] }
  | { readonly status: "ok"; readonly config: YtxConfig };

/** Reads and validates the VOICECODE_YTX_* variables. */
export function readYtxConfig(env: Env): YtxConfigResult {
  const result = readProviderEnv(env, { required: YTX_REQUIRED_ENV, optional: YTX_OPTIONAL_ENV, schema });
  if (result.status !== "ok") return result;
  const data = result.data;
  const environment = data[YTX_ENV.environment];
  return {
    status: "ok",
    config: {
      accountSid: data[YTX_ENV.accountSid],
      authToken: data[YTX_ENV.authToken],
      appId: data[YTX_ENV.appId],
      displayNumber: data[YTX_ENV.displayNumber],
      environment,
      endpoint: data[YTX_ENV.endpoint] ?? YTX_HOSTS[environment],
      webhookToken: data[YTX_ENV.webhookToken],
    },
  };
}

/** Start-up log facts: no token, no secret, only the end of the account SID. */
export function summarizeYtxConfig(config: YtxConfig): Record<string, string> {
  return {
    environment: config.environment,
    endpoint: config.endpoint,
    appId: config.appId,
    accountSid: `…${config.accountSid.slice(-4)}`,
    // dstclid is "此功能暂未开放" (not open yet) per the seed: say so rather than imply it works.
    displayNumber: config.displayNumber === undefined ? "not set" : "set (ytx documents dstclid as not open yet; the callee may see ytx's default)",
    statusPush:
      config.environment === "sandbox"
        ? "none: the ytx sandbox pushes no status"
        : "set the app's callback URL in the ytx console to <public webhook URL>/webhooks/ytx/<token>",
  };
}
