/**
 * Kingsoft's wire formats as the voice doc gives them: the CallVerify answers and the
 * HTTP status-report push. The push is a JSON array of up to 200 reports, one per
 * finished call (there are no progress pushes):
 *
 *   [{"Status":"SUCCESS","ErrCode":"SUCCESS","ErrDesc":"发送成功","CallId":"655e08e182c11590662652",
 *     "ExtId":"<our call id>","Mobile":"1xxxxxxxxxx","StartTime":"2020-05-28 18:44:10",
 *     "AnswerTime":"2020-05-28 18:44:20","EndTime":"2020-05-28 18:44:39","Duration":19,
 *     "PressKey":"","Caller":"875100000","CallerDisplay":"875100000","VoiceType":1}, ...]
 *
 * ErrCode is a string ("SUCCESS", "DH:0001") or a number (480) in the doc's example,
 * which also has trailing commas (lenient-json.ts reads them). A batch larger than the
 * documented 200 is read whole: the webhook server's body limit is the bound.
 *
 * Kingsoft re-pushes a batch until it gets its documented ack, so a batch is never
 * refused over one report: each report is checked on its own, and only the three fields
 * a report cannot be used without are required (CallId, Status, ErrCode). Everything
 * else is read if it has a usable type and treated as absent otherwise; the fields we
 * never read (StartTime, Mobile, Caller, CallerDisplay) are not in the schema at all,
 * so they may be missing, null or of any type.
 *
 * Verification (VoiceType 1) and notification (VoiceType 2: CallNotify, CallIvr)
 * reports come mixed in one batch. Each finds its call by ExtId or CallId, whatever its
 * type, so VoiceType is read only to be sure of that; PressKey (an IVR's key press) and
 * Duration are kept on the report's final event with AnswerTime and EndTime.
 */
import { z } from "zod";

/** A field read when it has a usable type; anything else reads as absent. */
const optional = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/** "YYYY-MM-DD hh:mm:ss" (Beijing time), or "" when the step never happened. */
const text = z.string().max(64);

export const statusReportSchema = z.object({
  CallId: z.string().min(1).max(128),
  Status: z.enum(["SUCCESS", "FAIL"]),
  ErrCode: z.union([z.string().min(1).max(64), z.number().int()]),
  /** Our call id as sent in ExtId; "" when none was sent. */
  ExtId: optional(z.union([z.string().max(128), z.number()]).nullable()),
  /** Free text: redacted and truncated when kept, so its length never matters. */
  ErrDesc: optional(z.union([z.string(), z.number()]).nullable()),
  /**
   * Set when the call was answered. Any other non-empty value (say, a UNIX time as a
   * number) still says it was answered; only the time is then unknown.
   */
  AnswerTime: z.unknown().optional(),
  EndTime: optional(text.nullable()),
  /** The key pressed on a CallIvr call, "" when none; a number is read as its digits. */
  PressKey: optional(z.union([z.string().max(16), z.number().int().nonnegative()]).nullable()),
  /** Connected seconds; 0 for an unanswered call. Numeric text is read too. */
  Duration: optional(z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,9}$/)]).nullable()),
  /** 1 verification code, 2 notification (either kind); informative only. */
  VoiceType: optional(z.union([z.number().int(), z.string().max(8)]).nullable()),
});

export type StatusReport = z.infer<typeof statusReportSchema>;

/** A push: the documented array, or a lone report object (a batch of one). */
export function reportsOf(json: unknown): readonly unknown[] | undefined {
  if (Array.isArray(json)) return json;
  if (typeof json === "object" && json !== null) return [json];
  return undefined;
}

/** HTTP 200 answer of CallVerify. */
export const callVerifySuccessSchema = z.object({
  CallId: z.string().min(1).max(128),
  ExtId: z.string().nullish(),
  RequestId: z.string().nullish(),
});

/** 4xx/5xx answer of any OpenAPI call. */
export const apiErrorSchema = z.object({
  RequestId: z.string().nullish(),
  Error: z.object({
    Type: z.string().nullish(),
    Code: z.string().min(1).max(128),
    Message: z.string().nullish(),
  }),
});

export type ApiErrorBody = z.infer<typeof apiErrorSchema>;
