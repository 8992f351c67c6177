/**
 * ytx's wire formats.
 *
 * Request (seed, 报文示例), POST {host}/201512/sid/{accountSID}/call/CodeCallOut.wx?Sign=..:
 *   {"action":"callOutCode","dst":"13911281234","appid":"ff80...","code":"158456","time":"3"}
 * plus the optional "dstclid" (display number; the seed says the feature is not open yet).
 * The seed types `code` as long but shows a string and allows letters: we send a string,
 * which also keeps leading zeros. `time` is a string in the seed's table and example.
 * There is no echo field, so our call id cannot travel with the request.
 *
 * Response (seed): {"statusCode":"0","statusMsg":"提交成功","requestId":"2016010000000205"};
 * an error looks the same with a non-zero statusCode and an empty requestId. The seed
 * calls requestId the unique identifier of a successful send: it is our provider call id.
 *
 * Status push: undocumented (UNCONFIRMED), so its schema is only "a JSON object, or an
 * array of them"; webhook.ts reads what it can from it.
 */
import { z } from "zod";

export const YTX_ACTION = "callOutCode";

export interface YtxCodeCallOutBody {
  readonly action: typeof YTX_ACTION;
  /** Mobile number or area code + landline, national format, digits only. */
  readonly dst: string;
  readonly appid: string;
  readonly code: string;
  /** Play count, 1-3. */
  readonly time: string;
  readonly dstclid?: string;
}

/** Strings in the seed; numbers tolerated, since a JSON encoder may emit either. */
const textOrNumber = z.union([z.string(), z.number()]).transform(String);

/**
 * statusMsg and requestId may also be null (a .NET or Java serializer writes a missing
 * string so): rejecting that would turn a plain refusal into an ambiguous outcome.
 */
export const ytxApiResponseSchema = z.object({
  statusCode: textOrNumber.pipe(z.string().trim().min(1).max(32)),
  statusMsg: z
    .string()
    .max(1024)
    .nullish()
    .transform((v) => v ?? undefined),
  requestId: textOrNumber
    .nullish()
    .transform((v) => v ?? undefined),
});

export type YtxApiResponse = z.infer<typeof ytxApiResponseSchema>;

const pushRecord = z.record(z.string(), z.unknown());

export type YtxPushRecord = z.infer<typeof pushRecord>;

/** One push: an object, or (should ytx batch) a non-empty array of objects. */
export const ytxPushBodySchema = z.union([pushRecord, z.array(pushRecord).min(1).max(500)]);
