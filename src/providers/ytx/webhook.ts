/**
 * Our side of ytx's status push. ytx documents neither the body nor the acknowledgement
 * (UNCONFIRMED, see codes.ts), so the parser is deliberately lenient about content and
 * strict only about shape: a JSON object (or array of objects) or a form-encoded body.
 * Every push is kept: an unrecognised status becomes an ACCEPTED event (stored as stale,
 * changing nothing), a push without a recognisable id is stored with providerCallId ""
 * (parked), and the masked raw body travels in providerText so a real push can be read
 * back and the mapping completed.
 */
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { CallState, FailureReason } from "../../core/model.js";
import type { InboundEvent, ProviderWebhook, WebhookReply, WebhookRequest } from "../../core/provider.js";
import { WebhookParseError } from "../../core/provider.js";
import { JsonTooDeepError, parseJsonLossless } from "./json.js";
import { maskPushText } from "./mask.js";
import { readPush } from "./read-push.js";
import { type YtxPushRecord, ytxPushBodySchema } from "./wire.js";

export interface YtxWebhookOptions {
  /** Warned about pushes it cannot map (key names only, never values). */
  readonly logger?: Logger;
}

const JSON_HEADERS = { "content-type": "application/json;charset=utf-8" } as const;

/**
 * Ack in the envelope of ytx's own API answers (UNCONFIRMED: ytx documents no ack; any
 * 2xx presumably counts). retryLater is a 503 with ytx's "异常错误" code.
 */
export const YTX_ACK_BODY = '{"statusCode":"0","statusMsg":"success"}';
export const YTX_RETRY_BODY = '{"statusCode":"-100","statusMsg":"retry later"}';

/** Parser and replies for ytx's status pushes (format UNCONFIRMED, see codes.ts). */
export function createYtxWebhook(options: YtxWebhookOptions = {}): ProviderWebhook {
  return {
    parse: (request) => parsePush(request, options.logger),
    ack: (): WebhookReply => ({ status: 200, headers: JSON_HEADERS, body: YTX_ACK_BODY }),
    retryLater: (): WebhookReply => ({ status: 503, headers: JSON_HEADERS, body: YTX_RETRY_BODY }),
  };
}

interface Item {
  readonly record: YtxPushRecord;
  /** The text this record came from, for providerText. */
  readonly raw: string;
  /**
   * What the dedupe key hashes: the record's own content, not the body's bytes or its
   * position, so a report retried alone or re-batched with other reports keeps its key,
   * and two different reports never share one.
   */
  readonly key: string;
}

function parsePush(request: WebhookRequest, logger: Logger | undefined): readonly InboundEvent[] {
  if (request.method !== "POST") throw new WebhookParseError(`ytx pushes are POST, got ${request.method}`);
  const text = request.body.toString("utf8").trim();
  if (text === "") throw new WebhookParseError("empty ytx push");
  const items = looksLikeJson(text, request.headers["content-type"]) ? fromJson(text) : [fromForm(text)];

  return items.map((item) => {
    const fields = readPush(item.record);
    if (fields.status === undefined || fields.providerCallId === "") {
      logger?.warn(
        { provider: "ytx", keys: fields.keys.slice(0, 30), status: fields.rawStatus, hasId: fields.providerCallId !== "" },
        "ytx push not fully recognised; stored for audit",
      );
    }
    return {
      dedupeKey: `sha256:${createHash("sha256").update(item.key).digest("hex")}`,
      providerCallId: fields.providerCallId,
      // CodeCallOut.wx has no echo field, so our call id never comes back.
      callId: undefined,
      state: fields.status?.state ?? CallState.ACCEPTED,
      failureReason: fields.status?.reason ?? FailureReason.UNSPECIFIED,
      providerCode: fields.rawStatus,
      providerText: maskPushText(item.raw, fields.providerCallId),
      occurredAtMs: fields.occurredAtMs,
      ...(fields.status?.provisional === true ? { provisional: true } : {}),
    };
  });
}

function looksLikeJson(text: string, contentType: string | string[] | undefined): boolean {
  const type = Array.isArray(contentType) ? contentType.join(",") : (contentType ?? "");
  return text.startsWith("{") || text.startsWith("[") || /json/i.test(type);
}

function fromJson(text: string): Item[] {
  let json: unknown;
  try {
    json = parseJsonLossless(text);
  } catch (error) {
    if (error instanceof JsonTooDeepError) throw new WebhookParseError(`ytx push is ${error.message}`);
    throw new WebhookParseError("ytx push is not valid JSON");
  }
  const parsed = ytxPushBodySchema.safeParse(json);
  if (!parsed.success) throw new WebhookParseError("ytx push must be a JSON object or a non-empty array of objects");
  if (!Array.isArray(parsed.data)) return [{ record: parsed.data, raw: text, key: JSON.stringify(parsed.data) }];
  return parsed.data.map((record) => {
    const raw = JSON.stringify(record);
    return { record, raw, key: raw };
  });
}

/** application/x-www-form-urlencoded: printable ASCII, `key=value` pairs joined by "&". */
function fromForm(text: string): Item {
  const malformed = new WebhookParseError("ytx push is neither JSON nor form-encoded");
  if (!/^[\x21-\x7e]+$/.test(text)) throw malformed;
  const record: Record<string, string> = {};
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw malformed;
    const key = decodeFormPart(pair.slice(0, eq));
    const value = decodeFormPart(pair.slice(eq + 1));
    if (key === undefined || value === undefined || !/^[A-Za-z0-9_.[\]-]+$/.test(key)) throw malformed;
    record[key] = value;
  }
  if (Object.keys(record).length === 0) throw malformed;
  return { record, raw: text, key: `form:${text}` };
}

function decodeFormPart(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}
