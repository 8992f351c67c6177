/**
 * The Kingsoft provider's environment: VOICECODE_KINGSOFT_* variables, read once at
 * start-up into a frozen typed object.
 */
import { z } from "zod";
import { readProviderEnv, type ReadEnvResult } from "../configure.js";
import type { Env } from "../module.js";
import { type KingsoftTemplates, parseKingsoftTemplates } from "./templates.js";

export const KINGSOFT_ENV = {
  accessKey: "VOICECODE_KINGSOFT_ACCESS_KEY",
  secretKey: "VOICECODE_KINGSOFT_SECRET_KEY",
  webhookToken: "VOICECODE_KINGSOFT_WEBHOOK_TOKEN",
  templateId: "VOICECODE_KINGSOFT_TEMPLATE_ID",
  caller: "VOICECODE_KINGSOFT_CALLER",
  region: "VOICECODE_KINGSOFT_REGION",
  endpoint: "VOICECODE_KINGSOFT_ENDPOINT",
  templates: "VOICECODE_KINGSOFT_TEMPLATES",
} as const;

/** Production OpenAPI host; the doc recommends HTTPS over its also-supported HTTP. */
export const KINGSOFT_DEFAULT_ENDPOINT = "https://voice.api.ksyun.com/";

/**
 * CallVerify takes only these system templates (the doc: "使用系统固定模板，无需自己创建").
 * 100001 is the neutral one: "您的验证码为{code}，如非本人操作，请忽略！".
 */
export const KINGSOFT_SYSTEM_TEMPLATES = ["100001", "100002", "100003", "100004", "100005"] as const;
export const KINGSOFT_DEFAULT_TEMPLATE = "100001";

export interface KingsoftConfig {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly webhookToken: string;
  readonly templateId: string;
  readonly caller: string | undefined;
  readonly region: string | undefined;
  readonly endpoint: string;
  /** Logical notification template name -> Kingsoft template (templates.ts); empty: none. */
  readonly templates: KingsoftTemplates;
}

const credential = z
  .string()
  .max(256)
  .regex(/^\S+$/, "must not contain whitespace");

const schema = z
  .object({
    [KINGSOFT_ENV.accessKey]: credential,
    [KINGSOFT_ENV.secretKey]: credential,
    [KINGSOFT_ENV.webhookToken]: z
      .string()
      .max(256)
      .regex(/^[A-Za-z0-9_-]{16,}$/, "must be at least 16 characters of A-Z a-z 0-9 _ -"),
    [KINGSOFT_ENV.templateId]: z
      .enum(KINGSOFT_SYSTEM_TEMPLATES, { error: `must be a system template: ${KINGSOFT_SYSTEM_TEMPLATES.join(", ")}` })
      .default(KINGSOFT_DEFAULT_TEMPLATE),
    [KINGSOFT_ENV.caller]: z
      .string()
      .regex(/^\d{1,20}$/, "must be the display number's digits")
      .optional(),
    [KINGSOFT_ENV.region]: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, "must look like cn-beijing-6")
      .optional(),
    [KINGSOFT_ENV.endpoint]: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .default(KINGSOFT_DEFAULT_ENDPOINT),
    [KINGSOFT_ENV.templates]: z
      .string()
      .optional()
      .transform((value, ctx): KingsoftTemplates => {
        if (value === undefined) return new Map();
        const parsed = parseKingsoftTemplates(value);
        if ("templates" in parsed) return parsed.templates;
        for (const problem of parsed.problems) ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }),
  })
  .transform(
    (v): KingsoftConfig =>
      Object.freeze({
        accessKey: v[KINGSOFT_ENV.accessKey],
        secretKey: v[KINGSOFT_ENV.secretKey],
        webhookToken: v[KINGSOFT_ENV.webhookToken],
        templateId: v[KINGSOFT_ENV.templateId],
        caller: v[KINGSOFT_ENV.caller],
        region: v[KINGSOFT_ENV.region],
        endpoint: new URL(v[KINGSOFT_ENV.endpoint]).toString(),
        templates: v[KINGSOFT_ENV.templates],
      }),
  );

export function readKingsoftConfig(env: Env): ReadEnvResult<KingsoftConfig> {
  return readProviderEnv(env, {
    required: [KINGSOFT_ENV.accessKey, KINGSOFT_ENV.secretKey, KINGSOFT_ENV.webhookToken],
    optional: [
      KINGSOFT_ENV.templateId,
      KINGSOFT_ENV.caller,
      KINGSOFT_ENV.region,
      KINGSOFT_ENV.endpoint,
      KINGSOFT_ENV.templates,
    ],
    schema,
  });
}

/** Non-secret facts for the start-up log: never the keys or the webhook token. */
export function kingsoftSummary(config: KingsoftConfig): Record<string, string> {
  const summary: Record<string, string> = { endpoint: config.endpoint, templateId: config.templateId };
  if (config.caller !== undefined) summary.caller = config.caller;
  if (config.region !== undefined) summary.region = config.region;
  if (config.templates.size > 0) summary.templates = [...config.templates.keys()].join(",");
  return summary;
}
