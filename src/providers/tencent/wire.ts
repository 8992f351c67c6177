/**
 * Tencent VMS wire formats: the SendCodeVoice request and answers, and the callback
 * bodies the platform POSTs to the URL set in the console (事件回调). The contract
 * fake builds its bodies from the same types, so the two sides cannot drift apart.
 *
 * Callbacks have one top-level key naming the event type:
 *   {"voicecode_callback":{"result":"0","accept_time":"1470196835","call_from":"075583763333",
 *     "callid":"xxxxxx","end_calltime":"1470196843","fee":"1","mobile":"13xxxxxxxxx",
 *     "nationcode":"86","start_calltime":"1470196821"}}
 *   {"voice_failure_callback":{"call_from":"075583763333","callid":"xxxxxx","failure_code":8,
 *     "failure_reason":"空号","mobile":"13xxxxxxxxx","nationcode":"86"}}
 *   voiceprompt_callback (notifications, same fields as voicecode_callback) and
 *   voicekey_callback (DTMF of notifications) may reach the same URL.
 *
 * The doc types every field as a string except failure_code (a number); the schemas
 * take either form for numeric fields so a platform-side change of JSON type does not
 * turn into an endless 400-and-retry loop. The callee number (`mobile`) is deliberately
 * not part of any schema: zod drops it, so it never reaches an event.
 */
import { z } from "zod";

/** The SendCodeVoice request body; field order is the order sent. */
export interface SendCodeVoiceBody {
  readonly CodeMessage: string;
  readonly CalledNumber: string;
  readonly VoiceSdkAppid: string;
  readonly PlayTimes: number;
  readonly SessionContext: string;
}

/**
 * `{"Response":{"SendStatus":{"CallId","SessionContext"},"RequestId"}}`. Only CallId
 * decides; the rest may be absent or null (API 3.0 answers null for "no value"), since
 * failing this schema on them would turn a placed call into an ambiguous one.
 */
export const sendCodeVoiceSuccessSchema = z.object({
  Response: z.object({
    SendStatus: z.object({
      CallId: z.string().min(1).max(256),
      SessionContext: z.string().nullish(),
    }),
    RequestId: z.string().nullish(),
  }),
});

/** `{"Response":{"Error":{"Code","Message"},"RequestId"}}`, for every API 3.0 action; only Code decides. */
export const apiErrorSchema = z.object({
  Response: z.object({
    Error: z.object({
      Code: z.string().min(1).max(256),
      Message: z.string().nullish(),
    }),
    RequestId: z.string().nullish(),
  }),
});

const callid = z.string().min(1).max(256);

/** A digit string or a non-negative integer, normalized to the digit string. */
const numericCode = z
  .union([z.string().regex(/^[0-9]{1,9}$/, "expected digits"), z.number().int().min(0).max(999_999_999)])
  .transform((v) => String(v));

/**
 * Unix seconds as a string (or number); "", "0" and null (not reached) become undefined.
 * Output in ms. A time only dates an event, so its absence must not cost a 400 (retried
 * forever, the call's result lost).
 */
const unixSeconds = z
  .union([z.string().regex(/^[0-9]{0,12}$/, "expected Unix seconds"), z.number().int().min(0).max(999_999_999_999)])
  .nullish()
  .transform((v) => {
    const seconds = v === undefined || v === null || v === "" ? 0 : Number(v);
    return seconds > 0 ? seconds * 1000 : undefined;
  });

/** Informational text: null is taken as absent, for the same reason. */
const text = z
  .string()
  .max(1024)
  .nullish()
  .transform((v) => v ?? undefined);

export const callResultSchema = z.object({
  callid,
  result: numericCode,
  accept_time: unixSeconds,
  start_calltime: unixSeconds,
  end_calltime: unixSeconds,
  call_from: text,
  fee: z.union([z.string().max(32), z.number()]).nullish(),
});

export const voiceFailureSchema = z.object({
  callid,
  failure_code: numericCode.transform(Number),
  failure_reason: text,
  call_from: text,
});

export const voiceKeySchema = z.object({
  callid,
  keypress: z.union([z.string().max(64), z.number()]).nullish(),
});

export const CALLBACK_TYPES = [
  "voicecode_callback",
  "voice_failure_callback",
  "voiceprompt_callback",
  "voicekey_callback",
] as const;

export type CallbackType = (typeof CALLBACK_TYPES)[number];

/** Raw callback bodies as the platform sends them (what the fake posts). */
export interface VoiceCodeCallbackBody {
  readonly voicecode_callback: {
    readonly result: string;
    readonly accept_time: string;
    readonly call_from: string;
    readonly callid: string;
    readonly end_calltime: string;
    readonly fee: string;
    readonly mobile: string;
    readonly nationcode: string;
    readonly start_calltime: string;
  };
}

export interface VoiceFailureCallbackBody {
  readonly voice_failure_callback: {
    readonly call_from: string;
    readonly callid: string;
    readonly failure_code: number;
    readonly failure_reason: string;
    readonly mobile: string;
    readonly nationcode: string;
  };
}

/** The acknowledgement body the platform expects on every callback. */
export interface CallbackAck {
  readonly result: number;
  readonly errmsg: string;
}
