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
 * ErrCode is a string ("SUCCESS", "DH:0001") or a number (480) in the doc's example.
 * The doc's example has trailing commas; real pushes are taken to be valid JSON.
 * Only what the parser relies on is checked; the rest is not type-checked at all, so a
 * harmless variation never makes the provider re-push a batch forever.
 */
import { z } from "zod";

/** Largest batch the doc allows in one push. */
export const MAX_REPORTS_PER_PUSH = 200;

/** "YYYY-MM-DD hh:mm:ss" (Beijing time), or "" when the step never happened. */
const time = z.string().max(64).nullish();
/**
 * Fields we never read. The doc's own example sends ErrCode as a string in one report
 * and a number in the next, so digit fields (Mobile, Caller, PressKey) may well arrive
 * as numbers; a type check on a field we ignore could only make one report fail its
 * whole batch and Kingsoft re-push it forever.
 */
const ignored = z.unknown();

export const statusReportSchema = z.object({
  CallId: z.string().min(1).max(128),
  /** Our call id as sent in ExtId; "" when none was sent. */
  ExtId: z.union([z.string().max(128), z.number()]).nullish(),
  Status: z.enum(["SUCCESS", "FAIL"]),
  ErrCode: z.union([z.string().min(1).max(64), z.number().int()]),
  /** Free text: redacted and truncated when kept, so its length never fails a push. */
  ErrDesc: z.union([z.string(), z.number()]).nullish(),
  AnswerTime: time,
  EndTime: time,
  StartTime: ignored,
  Duration: ignored,
  /** The callee's number: read past, never kept or logged. */
  Mobile: ignored,
  PressKey: ignored,
  Caller: ignored,
  CallerDisplay: ignored,
  /** 1 = verification code, 2 = notification. */
  VoiceType: ignored,
});

export type StatusReport = z.infer<typeof statusReportSchema>;

export const statusPushSchema = z.array(statusReportSchema).min(1).max(MAX_REPORTS_PER_PUSH);

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
