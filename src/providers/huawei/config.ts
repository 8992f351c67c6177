/**
 * VOICECODE_HUAWEI_* → a validated configuration. The endpoint is required (it is
 * per app: the "APP access address" in the console), and the callback URL built from
 * VOICECODE_WEBHOOK_PUBLIC_URL must fit Huawei's 128-character statusUrl.
 */
import { z } from "zod";
import { readProviderEnv, type ReadEnvResult } from "../configure.js";
import type { Env } from "../module.js";
import { callbackUrlProblem } from "./callback-url.js";

export const HUAWEI_ENV = {
  appKey: "VOICECODE_HUAWEI_APP_KEY",
  appSecret: "VOICECODE_HUAWEI_APP_SECRET",
  endpoint: "VOICECODE_HUAWEI_ENDPOINT",
  displayNumber: "VOICECODE_HUAWEI_DISPLAY_NUMBER",
  preTone: "VOICECODE_HUAWEI_PRE_TONE",
  posTone: "VOICECODE_HUAWEI_POS_TONE",
  webhookToken: "VOICECODE_HUAWEI_WEBHOOK_TOKEN",
} as const;

const REQUIRED = [
  HUAWEI_ENV.appKey,
  HUAWEI_ENV.appSecret,
  HUAWEI_ENV.endpoint,
  HUAWEI_ENV.displayNumber,
  HUAWEI_ENV.preTone,
  HUAWEI_ENV.webhookToken,
] as const;

const OPTIONAL = [HUAWEI_ENV.posTone] as const;

/** The global variable the callback URL is built from (read here only to check its length). */
const PUBLIC_URL_ENV = "VOICECODE_WEBHOOK_PUBLIC_URL";

export interface HuaweiConfig {
  readonly appKey: string;
  readonly appSecret: string;
  /** Base URL without a trailing slash; the API path is appended. */
  readonly endpoint: string;
  readonly displayNumber: string;
  readonly preTone: string;
  readonly posTone: string | undefined;
  readonly webhookToken: string;
}

// Credentials go inside a quoted header attribute: no quotes, commas, backslashes or spaces.
const headerSafe = (what: string) =>
  z
    .string()
    .max(256)
    .regex(/^[!#-+\--[\]-~]+$/, `${what} must be printable ASCII without spaces, quotes, commas or backslashes`);

const tone = z
  .string()
  .max(128, "at most 128 characters")
  .regex(/^[^/\\]+\.wav$/i, "the name of an approved .wav announcement file, e.g. welcome.wav");

const endpoint = z
  .url({ protocol: /^https?$/, error: "an http(s) URL: the APP access address from the Huawei console" })
  .refine((value) => {
    // zod runs refinements even after the URL check failed.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  }, "a base URL without query, fragment or credentials")
  .transform((value) => value.replace(/\/+$/, ""));

const schema = z
  .object({
    [HUAWEI_ENV.appKey]: headerSafe("the APP_Key"),
    [HUAWEI_ENV.appSecret]: headerSafe("the APP_Secret"),
    [HUAWEI_ENV.endpoint]: endpoint,
    [HUAWEI_ENV.displayNumber]: z
      .string()
      .regex(/^\+\d{3,30}$/, "the purchased display number in global format, e.g. +8675528888888"),
    [HUAWEI_ENV.preTone]: tone,
    [HUAWEI_ENV.posTone]: tone.optional(),
    [HUAWEI_ENV.webhookToken]: z
      .string()
      .min(16, "at least 16 characters")
      .regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, _ and -"),
  })
  .transform(
    (v): HuaweiConfig => ({
      appKey: v[HUAWEI_ENV.appKey],
      appSecret: v[HUAWEI_ENV.appSecret],
      endpoint: v[HUAWEI_ENV.endpoint],
      displayNumber: v[HUAWEI_ENV.displayNumber],
      preTone: v[HUAWEI_ENV.preTone],
      posTone: v[HUAWEI_ENV.posTone],
      webhookToken: v[HUAWEI_ENV.webhookToken],
    }),
  );

/** Every variable the module reads, for docs. */
export const HUAWEI_ENV_VARS: readonly string[] = [...REQUIRED, ...OPTIONAL];

export function readHuaweiConfig(env: Env): ReadEnvResult<HuaweiConfig> {
  const result = readProviderEnv(env, { required: REQUIRED, optional: OPTIONAL, schema });
  if (result.status !== "ok") return result;
  const publicUrl = publicUrlOf(env);
  const problem = publicUrl === undefined ? undefined : callbackUrlProblem(publicUrl, result.data.webhookToken);
  if (problem !== undefined) return { status: "invalid", errors: [`${HUAWEI_ENV.webhookToken}: ${problem}`] };
  return result;
}

/** As src/config.ts reads it: empty is unset, trailing slashes dropped. */
export function publicUrlOf(env: Env): string | undefined {
  const value = env[PUBLIC_URL_ENV];
  return value === undefined || value === "" ? undefined : value.replace(/\/+$/, "");
}
