/**
 * Our side of Kingsoft's HTTP status-report push. One POST carries up to 200 final
 * reports, possibly for many calls; each becomes the events it proves:
 *
 *   AnswerTime set      -> ANSWERED (at AnswerTime)
 *   Status SUCCESS      -> COMPLETED (at EndTime)
 *   Status FAIL         -> FAILED with the receipt table's reason (at EndTime)
 *
 * Kingsoft re-pushes a batch until it gets exactly its documented ack, so ack() is sent
 * only after the durable write and retryLater() answers anything else. A re-pushed
 * report yields the same dedupe keys: they are built from the report's CallId, Status
 * and ErrCode, never from the batch or the arrival time.
 */
import { CallState, FailureReason } from "../../core/model.js";
import type { InboundEvent, ProviderWebhook, WebhookReply, WebhookRequest } from "../../core/provider.js";
import { WebhookParseError } from "../../core/provider.js";
import { receiptFailureReason } from "./codes.js";
import { redactReportText } from "./redact.js";
import { parseReportTime } from "./report-time.js";
import { type StatusReport, statusPushSchema } from "./wire.js";

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

/** Validates one push and normalizes every report in it, in order. */
export function parseKingsoftPush(request: WebhookRequest): readonly InboundEvent[] {
  if (request.method !== "POST") throw new WebhookParseError(`kingsoft status reports are POST, got ${request.method}`);
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    throw new WebhookParseError("kingsoft status report body is not valid JSON");
  }
  const result = statusPushSchema.safeParse(json);
  if (!result.success) {
    // Paths and messages only: zod's messages name types, never values (Mobile stays out).
    const problems = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw new WebhookParseError(`kingsoft status report rejected: ${problems.join("; ")}`);
  }
  return result.data.flatMap(eventsForReport);
}

function eventsForReport(report: StatusReport): InboundEvent[] {
  const code = String(report.ErrCode);
  const extId = report.ExtId === undefined || report.ExtId === null ? "" : String(report.ExtId);
  const base = {
    providerCallId: report.CallId,
    callId: extId === "" ? undefined : extId,
    providerCode: code,
    // ErrDesc only, and redacted: it is free carrier text that may quote the callee.
    providerText: redactReportText(report.ErrDesc === undefined || report.ErrDesc === null ? "" : String(report.ErrDesc)),
  };
  const events: InboundEvent[] = [];
  const answeredAtMs = parseReportTime(report.AnswerTime);
  if (report.AnswerTime !== undefined && report.AnswerTime !== null && report.AnswerTime.trim() !== "") {
    events.push({
      ...base,
      dedupeKey: `${report.CallId}:answered`,
      state: CallState.ANSWERED,
      failureReason: FailureReason.UNSPECIFIED,
      occurredAtMs: answeredAtMs,
    });
  }
  const success = report.Status === "SUCCESS";
  events.push({
    ...base,
    dedupeKey: `${report.CallId}:${report.Status}:${code}`,
    state: success ? CallState.COMPLETED : CallState.FAILED,
    failureReason: success ? FailureReason.UNSPECIFIED : receiptFailureReason(code),
    occurredAtMs: parseReportTime(report.EndTime),
  });
  return events;
}
