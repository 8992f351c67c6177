/** Human-readable lines. Every server-supplied string passes through clean() before a terminal sees it. */
import type { DescEnum } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Attempt,
  AttemptOutcome,
  type Call,
  CallKind,
  CallState,
  CallStateSchema,
  FailureReasonSchema,
  type SendResponse,
  type StatusEvent,
  VerificationState,
} from "../../gen/voicecode/v1/voicecode_pb.js";

function enumName(schema: DescEnum, value: number, prefix: string): string {
  const name = schema.values.find((v) => v.number === value)?.name;
  // A newer server may send a value this build does not know; show the number rather than lie.
  return name === undefined ? String(value) : name.slice(prefix.length);
}

export function stateName(state: CallState): string {
  return enumName(CallStateSchema, state, "CALL_STATE_");
}

export function reasonName(reason: number): string {
  return enumName(FailureReasonSchema, reason, "FAILURE_REASON_");
}

// Control characters (C0, DEL, C1) could drive the terminal; provider strings are untrusted.
export function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** Seconds precision, as in the server logs; sequence numbers already order events. */
export function formatTime(ts: Timestamp | undefined): string {
  if (ts === undefined) return "-";
  return timestampDate(ts).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function stateWithReason(state: CallState, reason: number): string {
  return state === CallState.FAILED && reason !== 0 ? `FAILED (${reasonName(reason)})` : stateName(state);
}

function callHeader(callId: string, provider: string, providerCallId: string, stateText: string): string {
  const pid = providerCallId === "" ? "" : ` (provider id ${clean(providerCallId)})`;
  return `call ${clean(callId)} via ${clean(provider)}${pid} ${stateText}`;
}

export function formatSendResponse(res: Pick<SendResponse, "callId" | "provider" | "providerCallId" | "state" | "failureReason" | "idempotentReplay" | "attempts">): string {
  const replay = res.idempotentReplay ? " (idempotent replay)" : "";
  const header = callHeader(res.callId, res.provider, res.providerCallId, stateWithReason(res.state, res.failureReason));
  // Only a route that tried more than one provider is worth a second line.
  const route = res.attempts.length > 1 ? `\n${formatAttempts(res.attempts).join("\n")}` : "";
  return header + replay + route;
}

const OUTCOMES: Record<AttemptOutcome, string> = {
  [AttemptOutcome.UNSPECIFIED]: "in flight",
  [AttemptOutcome.ACCEPTED]: "accepted",
  [AttemptOutcome.REJECTED]: "refused, no call placed",
  [AttemptOutcome.AMBIGUOUS]: "answer lost",
};

/** One line per provider request, the route taken. */
export function formatAttempts(attempts: readonly Attempt[]): string[] {
  return attempts.map((a) => {
    const outcome = OUTCOMES[a.outcome] ?? String(a.outcome);
    const code = a.providerCode === "" ? "" : ` code ${clean(a.providerCode)}`;
    return `  attempt ${a.number}  ${clean(a.provider)}  ${outcome}  ${stateWithReason(a.state, a.failureReason)}${code}`;
  });
}

function providerDetail(ev: StatusEvent): string {
  const code = ev.providerCode === "" ? "" : ` ${clean(ev.providerCode)}`;
  const text = ev.providerText === "" ? "" : ` ${JSON.stringify(clean(ev.providerText))}`;
  return code === "" && text === "" ? "" : `  provider${code === "" ? "" : " code"}${code}${text}`;
}

/** `withCallId` for reference watches, where events of several calls interleave. */
export function formatEvent(ev: StatusEvent, withCallId: boolean): string {
  const when = formatTime(ev.occurTime ?? ev.recordTime);
  const call = withCallId ? `  ${clean(ev.callId)}` : "";
  const provisional = ev.provisional ? " (provisional)" : "";
  // A verification event repeats the call's state; what it says is the Check's outcome.
  if (ev.verification !== VerificationState.UNSPECIFIED) {
    return `#${ev.sequence}  ${when}${call}  ${VerificationState[ev.verification] ?? ev.verification}`;
  }
  // Attempt 1 is every call that never tried a second provider: only later ones are named.
  const attempt = ev.attempt > 1 ? ` (attempt ${ev.attempt})` : "";
  // The IVR answer: the key the callee pressed, on the event that reported it.
  const key = ev.pressedKey === "" ? "" : `  pressed ${JSON.stringify(clean(ev.pressedKey))}`;
  return `#${ev.sequence}  ${when}${call}  ${stateWithReason(ev.state, ev.failureReason)}${provisional}${attempt}${key}${providerDetail(ev)}`;
}

export function formatCall(call: Call): string[] {
  const lines = [
    callHeader(call.callId, call.provider, call.providerCallId, stateWithReason(call.state, call.failureReason)),
    `  to        ${clean(call.phoneNumberMasked)}`,
  ];
  // A notification names its template; a code call how often the code is spoken.
  if (call.templateName !== "") lines.push(`  template  ${clean(call.templateName)}${call.kind === CallKind.IVR ? " (IVR)" : ""}`);
  else lines.push(`  plays     ${call.playTimes}`);
  if (call.clientReference !== "") lines.push(`  ref       ${clean(call.clientReference)}`);
  lines.push(`  created   ${formatTime(call.createTime)}`, `  updated   ${formatTime(call.updateTime)}`);
  for (const [key, value] of Object.entries(call.metadata).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  meta      ${clean(key)}=${clean(value)}`);
  }
  if (call.attempts.length > 0) lines.push("  attempts", ...formatAttempts(call.attempts).map((l) => `  ${l}`));
  return lines;
}
