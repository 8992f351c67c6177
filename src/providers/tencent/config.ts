/**
 * The Tencent provider's environment variables, read once at start-up. Values are
 * checked for shape only (no network): a bad one is a configuration error, reported
 * by variable name without echoing the value.
 */
import { z } from "zod";
import { type ReadEnvResult, readProviderEnv } from "../configure.js";
import type { Env } from "../module.js";
import { TENCENT_DEFAULT_ENDPOINT, TENCENT_DEFAULT_REGION, type TencentClientOptions } from "./client.js";

export const TENCENT_ENV = {
  /** API 3.0 SecretId (访问管理 → API 密钥). */
  secretId: "VOICECODE_TENCENT_SECRET_ID",
  /** API 3.0 SecretKey. */
  secretKey: "VOICECODE_TENCENT_SECRET_KEY",
  /** VoiceSdkAppid of the VMS application, e.g. 1400006666. */
  sdkAppId: "VOICECODE_TENCENT_SDK_APP_ID",
  /** Secret path segment of /webhooks/tencent/<token>, the URL entered in the VMS console. */
  webhookToken: "VOICECODE_TENCENT_WEBHOOK_TOKEN",
  /** X-TC-Region; default ap-guangzhou. */
  region: "VOICECODE_TENCENT_REGION",
  /** API base URL; default https://vms.tencentcloudapi.com (tests point it at the fake). */
  endpoint: "VOICECODE_TENCENT_ENDPOINT",
} as const;

const REQUIRED = [TENCENT_ENV.secretId, TENCENT_ENV.secretKey, TENCENT_ENV.sdkAppId, TENCENT_ENV.webhookToken];
const OPTIONAL = [TENCENT_ENV.region, TENCENT_ENV.endpoint];

/** Every variable the module reads. */
export const TENCENT_ENV_VARS: readonly string[] = [...REQUIRED, ...OPTIONAL];

const schema = z
  .object({
    // Both end up inside the Authorization header: no spaces, commas or control characters.
    [TENCENT_ENV.secretId]: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, "must be a Tencent Cloud SecretId (letters and digits)"),
    [TENCENT_ENV.secretKey]: z.string().regex(/^[\x21-\x7e]{1,256}$/, "must be a Tencent Cloud SecretKey (printable ASCII, no spaces)"),
    [TENCENT_ENV.sdkAppId]: z.string().regex(/^[0-9]{1,20}$/, "must be the numeric SdkAppid from the VMS console, e.g. 1400006666"),
    [TENCENT_ENV.webhookToken]: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,}$/, "must be at least 16 characters of A-Z a-z 0-9 _ -"),
    [TENCENT_ENV.region]: z
      .string()
      .regex(/^[a-z]{2,}(-[a-z0-9]+)+$/, "must be a Tencent Cloud region such as ap-guangzhou")
      .default(TENCENT_DEFAULT_REGION),
    [TENCENT_ENV.endpoint]: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .refine((v) => {
        // Runs even when the URL check failed; that failure is already reported.
        if (!URL.canParse(v)) return true;
        const url = new URL(v);
        return url.search === "" && url.hash === "" && url.username === "" && url.password === "";
      }, "must be a base URL without query, fragment or credentials")
      .default(TENCENT_DEFAULT_ENDPOINT),
  })
  .transform((env) => ({
    secretId: env[TENCENT_ENV.secretId],
    secretKey: env[TENCENT_ENV.secretKey],
    sdkAppId: env[TENCENT_ENV.sdkAppId],
    webhookToken: env[TENCENT_ENV.webhookToken],
    region: env[TENCENT_ENV.region],
    endpoint: env[TENCENT_ENV.endpoint],
  }));

export interface TencentConfig extends TencentClientOptions {
  readonly webhookToken: string;
}

/** Reads the VOICECODE_TENCENT_* variables: absent, incomplete, invalid or ok. */
export function readTencentConfig(env: Env): ReadEnvResult<TencentConfig> {
  return readProviderEnv(env, { required: REQUIRED, optional: OPTIONAL, schema });
}
