/**
 * Our side of Kingsoft's HTTP status-report push. One POST carries up to 200 final
 * reports, possibly for many calls; each becomes the events it proves:
 *
 *   AnswerTime set            -> ANSWERED (at AnswerTime)
 *   Status SUCCESS            -> COMPLETED (at EndTime)
 *   Status FAIL               -> FAILED with the receipt table's reason (at EndTime),
 *                                or COMPLETED for a code that says the call was connected
 *
 * The final event also carries PressKey (an IVR's key press), Duration, AnswerTime and
 * EndTime, whatever the report's VoiceType: one batch mixes verification and
 * notification reports, and each finds its call by ExtId or CallId.
 *
 * Kingsoft re-pushes a batch until it gets exactly its documented ack, so ack() is sent
 * only after the durable write and retryLater() answers anything else. For the same
 * reason nothing that reads as reports is refused: the doc's own trailing commas are
 * read, and a report we cannot use is acknowledged with its batch and kept for audit
 * (unreadable.ts) instead of failing the good reports beside it. Only a body with no
 * reports in it at all (not JSON, or not an array or object) is refused with 400.
 *
 * A re-pushed report yields the same dedupe keys: they are built from the report's
 * CallId, Status and ErrCode, never from the batch or the arrival time.
 */
import { type CallDetails, CallState, FailureReason } from "../../core/model.js";
import type { InboundEvent, ProviderWebhook, WebhookReply, WebhookRequest } from "../../core/provider.js";
import { WebhookParseError } from "../../core/provider.js";
import { receiptOutcome } from "./codes.js";
import { parseJsonAllowingTrailingCommas } from "./lenient-json.js";
import { redactReportText } from "./redact.js";
import { parseReportTime } from "./report-time.js";
import { unreadableReport } from "./unreadable.js";
import { type StatusReport, reportsOf, statusReportSchema } from "./wire.js";

const JSON_HEADERS = { "content-type": "application/json;charset=UTF-8" } as const;

/** The doc's response format: code 0 is the only answer that stops the re-pushes. */
export const KINGSOFT_ACK_BODY = '{"code":0,"msg":"success"}';
export const KINGSOFT_RETRY_BODY = '{"code":1,"msg":"retry"}';

export function createKingsoftWebhook(): ProviderWebhook {
  return {
    parse: parseKingsoftPush,
    ack: (): WebhookReply => ({ status: 200, headers: JSON_HEADERS, body: KINGSOFT_ACK_BODY }),
    retryLater: (): WebhookReply => ({ status: 500, headers: JSON_HEADERS, body: KINGSOFT_RETRY_BODY }),
  };
}

/** Reads one push and normalizes every report in it, in order. */
export function parseKingsoftPush(request: WebhookRequest): readonly InboundEvent[] {
  if (request.method !== "POST") throw new WebhookParseError(`kingsoft status reports are POST, got ${request.method}`);
  let json: unknown;
  try {
    json = parseJsonAllowingTrailingCommas(request.body.toString("utf8"));
  } catch {
    throw new WebhookParseError("kingsoft status report body is not valid JSON");
  }
  const reports = reportsOf(json);
  if (reports === undefined) throw new WebhookParseError("kingsoft status report rejected: (body): not an array of reports");
  return reports.flatMap((report) => {
    const result = statusReportSchema.safeParse(report);
    if (result.success) return eventsForReport(result.data);
    // Paths and messages only: zod's messages name types, never values (Mobile stays out).
    const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(report)"}: ${i.message}`);
    return [unreadableReport(report, problems.join("; "))];
  });
}

function eventsForReport(report: StatusReport): InboundEvent[] {
  const code = String(report.ErrCode);
  const extId = report.ExtId === undefined || report.ExtId === null ? "" : String(report.ExtId);
  const desc = report.ErrDesc === undefined || report.ErrDesc === null ? "" : String(report.ErrDesc);
  const callId = extId === "" ? undefined : extId;
  // ErrDesc only, and redacted: it is free carrier text that may quote the callee.
  const providerText = redactReportText(desc);
  // Each event spelled out rather than spread from a shared base: `{ ...base, ... }` cost
  // ~10 µs a report here (bench/README.md, ingest), five times the rest of this parser.
  const events: InboundEvent[] = [];
  if (answered(report.AnswerTime)) {
    events.push({
      providerCallId: report.CallId,
      callId,
      providerCode: code,
      providerText,
      dedupeKey: `${report.CallId}:answered`,
      state: CallState.ANSWERED,
      failureReason: FailureReason.UNSPECIFIED,
      occurredAtMs: typeof report.AnswerTime === "string" ? parseReportTime(report.AnswerTime) : undefined,
    });
  }
  const outcome =
    report.Status === "SUCCESS" ? { state: CallState.COMPLETED, reason: FailureReason.UNSPECIFIED } : receiptOutcome(code, desc);
  const endedAtMs = parseReportTime(report.EndTime);
  events.push({
    providerCallId: report.CallId,
    callId,
    providerCode: code,
    providerText,
    dedupeKey: `${report.CallId}:${report.Status}:${code}`,
    state: outcome.state,
    failureReason: outcome.reason,
    occurredAtMs: endedAtMs,
    details: detailsOf(report, endedAtMs),
  });
  return events;
}

/** The final report's key press, duration and times, absent where the report says nothing. */
function detailsOf(report: StatusReport, endedAtMs: number | undefined): CallDetails | undefined {
  const details: { -readonly [K in keyof CallDetails]: CallDetails[K] } = {};
  const key = report.PressKey === undefined || report.PressKey === null ? "" : String(report.PressKey).trim();
  if (key !== "") details.pressedKey = key;
  if (report.Duration !== undefined && report.Duration !== null) details.durationSeconds = Number(report.Duration);
  const answeredAtMs = typeof report.AnswerTime === "string" ? parseReportTime(report.AnswerTime) : undefined;
  if (answeredAtMs !== undefined) details.answeredAtMs = answeredAtMs;
  if (endedAtMs !== undefined) details.endedAtMs = endedAtMs;
  return Object.keys(details).length === 0 ? undefined : details;
}

/** AnswerTime is "" (or absent) until the callee answers; a time, as text or a number, means answered. */
function answered(value: unknown): boolean {
  if (typeof value === "string") return value.trim() !== "";
  return typeof value === "number" && value > 0;
}
