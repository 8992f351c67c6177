/**
 * One Huawei push → normalized events. Status pushes drive the lifecycle; the CDR that
 * follows every call confirms its outcome, which matters because Huawei never retries a
 * status push: when the `disconnect` was lost, the CDR (retried for up to six hours) is
 * what ends the call. A CDR arriving after the `disconnect` is stale and the store
 * ignores it.
 *
 * A `disconnect` without its hang-up cause (stateCode) still ends the call, at once:
 * FAILED, reason UNKNOWN, provisional. The CDR's failure cause, precise (not
 * provisional), then replaces the reason. A CDR without a cause is provisional itself,
 * so a late `disconnect` with its stateCode can still give the reason.
 */
import { CallState, FailureReason } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import { type CodeInfo, Q850_CAUSES, SIP_STATUSES, hangupCause } from "./codes.js";
import type { Redactor } from "./redact.js";
import { parseHuaweiTime } from "./time.js";
import type { FeeInfo, ProgressEvent, StatusPush } from "./wire.js";

const PROGRESS: Readonly<Record<ProgressEvent, { state: CallState; text: string }>> = {
  callout: { state: CallState.DIALING, text: "Calling out" },
  alerting: { state: CallState.RINGING, text: "Ringing" },
  answer: { state: CallState.ANSWERED, text: "Answered" },
};

const echo = (userData: string | undefined): string | undefined => (userData === undefined || userData === "" ? undefined : userData);

const NO_CAUSE_TEXT = "Hung up; no hang-up cause (stateCode) given, the CDR will tell";

export function statusEvent(push: StatusPush, redact: Redactor): InboundEvent {
  const info = push.statusInfo;
  const common = {
    // Each event type happens once per session; a retry resends it unchanged.
    dedupeKey: `${info.sessionId}:${push.eventType}`,
    providerCallId: info.sessionId,
    callId: echo(info.userData),
    occurredAtMs: parseHuaweiTime(info.timestamp),
  };
  if (push.eventType === "disconnect") {
    // Huawei's free text may quote the numbers of the call: masked before it is kept.
    const desc = redact(info.stateDesc ?? "").trim();
    const stateCode = push.statusInfo.stateCode;
    if (stateCode === undefined) {
      return {
        ...common,
        state: CallState.FAILED,
        failureReason: FailureReason.UNKNOWN,
        providerCode: "disconnect",
        providerText: desc || NO_CAUSE_TEXT,
        provisional: true,
      };
    }
    const cause = hangupCause(stateCode);
    return {
      ...common,
      state: cause.state,
      failureReason: cause.reason,
      providerCode: String(stateCode),
      providerText: desc || cause.text,
    };
  }
  const progress = PROGRESS[push.eventType];
  return {
    ...common,
    state: progress.state,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode: push.eventType,
    providerText: progress.text,
  };
}

/**
 * A CDR's verdict: answered (callOutAnswerTime set) → COMPLETED; otherwise FAILED with
 * the Q.850 cause, else the SIP status, else UNKNOWN (provisional: a late `disconnect`
 * with its hang-up cause replaces it). A failure with a cause is precise, so it
 * replaces the provisional UNKNOWN of a `disconnect` that came without a stateCode;
 * the price is that a `disconnect` arriving after such a CDR (rare: status pushes are
 * real time, the CDR follows the call) is stale even if its table is finer.
 * providerCode names the field the verdict came from ("q850:17", "sip:486").
 */
export function feeEvent(record: FeeInfo): InboundEvent {
  const common = {
    dedupeKey: `${record.sessionId}:fee`,
    providerCallId: record.sessionId,
    callId: echo(record.userData),
    occurredAtMs: parseHuaweiTime(record.callEndTime),
  };
  const q850 = record.callOutUnaswRsn ?? 0;
  if ((record.callOutAnswerTime ?? "").trim() !== "") {
    return {
      ...common,
      state: CallState.COMPLETED,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: `q850:${q850}`,
      providerText: "CDR: answered",
    };
  }
  const failure = (code: string, reason: FailureReason, text: string): InboundEvent => ({
    ...common,
    state: CallState.FAILED,
    failureReason: reason,
    providerCode: code,
    providerText: `CDR: ${text}`,
    ...(reason === FailureReason.UNKNOWN ? { provisional: true } : {}),
  });
  const cause = known(Q850_CAUSES, q850);
  if (cause !== undefined) return failure(`q850:${q850}`, cause.reason, `${cause.text} (Q.850 ${q850})`);
  const sip = record.sipStatusCode ?? 0;
  const status = known(SIP_STATUSES, sip);
  if (status !== undefined) return failure(`sip:${sip}`, status.reason, `${status.text} (SIP ${sip})`);
  if (q850 !== 0) {
    const text = Q850_CAUSES.get(q850)?.text ?? "undocumented cause";
    return failure(`q850:${q850}`, FailureReason.UNKNOWN, `not answered: ${text} (Q.850 ${q850})`);
  }
  const teardown = record.ulFailReason === undefined || record.ulFailReason === 0 ? "" : ` (teardown point ${record.ulFailReason})`;
  return failure("q850:0", FailureReason.UNKNOWN, `not answered, no failure cause given${teardown}`);
}

/** A table entry that actually says why (UNKNOWN entries such as "normal clearing" do not). */
function known(table: ReadonlyMap<number, CodeInfo>, code: number): CodeInfo | undefined {
  const info = table.get(code);
  return info === undefined || info.reason === FailureReason.UNKNOWN ? undefined : info;
}
