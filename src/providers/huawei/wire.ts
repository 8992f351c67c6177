/**
 * Huawei Voice Call's JSON bodies: the callVerify answer and the two pushes (call
 * status to statusUrl, CDRs to feeUrl). Field names are case-sensitive. The parsers are
 * strict about what identifies a push (event type, sessionId) and lenient about the
 * rest: status pushes are never retried by Huawei, so refusing one over a cosmetic
 * detail would lose it for good.
 *
 *   {"eventType":"callout","statusInfo":{"sessionId":"1201_612_..@callenabler245.huaweicaas.com",
 *    "timestamp":"2019-01-24 03:04:24","caller":"+86755****0022","called":"+86138****0021","userData":"<call id>"}}
 *   {"eventType":"disconnect","statusInfo":{..., "stateCode":0,"stateDesc":"The user releases the call."}}
 *   {"eventType":"fee","feeLst":[{"sessionId":"...","icid":"...","callOutAnswerTime":"2019-01-24 03:04:32",
 *    "callOutUnaswRsn":0,"callEndTime":"2019-01-24 03:04:47","userData":"<call id>", ...}]}
 */
import { z } from "zod";

/** Optional text that Java serializers may send as null: null reads as absent. */
const optionalText = z
  .string()
  .nullish()
  .transform((v) => (v === null ? undefined : v));

/**
 * callVerify's answer, success and error alike: `resultcode` "0" is success. Only
 * resultcode decides; a null resultdesc or sessionId (Huawei's SDK: "sessionId is empty
 * when the request failed") must not turn a clear answer into an unreadable one.
 */
export const callVerifyResponseSchema = z.object({
  // A string on the wire; a number is tolerated.
  resultcode: z.union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative()]).transform(String),
  resultdesc: optionalText,
  sessionId: optionalText,
});

export type CallVerifyResponse = z.output<typeof callVerifyResponseSchema>;

/** Integer codes: numbers in Huawei's examples, strings in some SDK models; "" or null means none. */
const numericCode = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{0,10}$/), z.null()])
  .transform((v) => (v === null || v === "" ? undefined : Number(v)));

/** Optional text that Java serializers may send as null; cut rather than refused when too long. */
const text = (max: number) =>
  z
    .string()
    .nullish()
    .transform((v) => (v === null || v === undefined ? undefined : v.slice(0, max)));

const sessionId = z.string().min(1).max(256);

/** Text in the examples; sample comments call it a UNIX timestamp, so a number is read too. */
const timestamp = z
  .union([z.string().max(64), z.number().int().nonnegative()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : String(v)));

const statusInfoSchema = z.object({
  sessionId,
  timestamp,
  // caller / called are deliberately not read: phone numbers stay out of everything we keep.
  userData: text(256),
  stateCode: numericCode.optional(),
  stateDesc: text(256),
});

export const PROGRESS_EVENTS = ["callout", "alerting", "answer"] as const;

export type ProgressEvent = (typeof PROGRESS_EVENTS)[number];

const progressPushSchema = z.object({
  eventType: z.enum(PROGRESS_EVENTS),
  statusInfo: statusInfoSchema,
});

const disconnectPushSchema = z.object({
  eventType: z.literal("disconnect"),
  statusInfo: statusInfoSchema.extend({
    // The docs send the hang-up cause with every disconnect, but Huawei never re-sends
    // a status push: one without a usable cause (missing, null, "", not a number) is
    // still the end of the call, so it reads as "no cause" instead of failing the push.
    stateCode: numericCode.optional().catch(undefined),
  }),
});

/** DTMF results, sent for voice notifications; nothing in it concerns a code call's status. */
const collectInfoPushSchema = z.looseObject({ eventType: z.literal("collectInfo") });

export const feeInfoSchema = z.object({
  sessionId,
  icid: text(256),
  userData: text(256),
  callOutStartTime: text(64),
  callOutAlertingTime: text(64),
  callOutAnswerTime: text(64),
  callEndTime: text(64),
  /** Q.850 cause of an unanswered call-out. */
  callOutUnaswRsn: numericCode.optional(),
  /** Where the call was torn down (no documented table). */
  ulFailReason: numericCode.optional(),
  sipStatusCode: numericCode.optional(),
});

export type FeeInfo = z.output<typeof feeInfoSchema>;

const feePushSchema = z.object({
  eventType: z.literal("fee"),
  // Huawei merges CDRs that share a callEndTime, at most 50 per push.
  feeLst: z.array(feeInfoSchema).min(1).max(50),
});

export const huaweiPushSchema = z.discriminatedUnion("eventType", [
  progressPushSchema,
  disconnectPushSchema,
  collectInfoPushSchema,
  feePushSchema,
]);

export type HuaweiPush = z.output<typeof huaweiPushSchema>;
export type StatusPush = z.output<typeof progressPushSchema> | z.output<typeof disconnectPushSchema>;
