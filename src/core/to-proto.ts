/** Domain records to generated messages: the one place the two meet. */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Attempt,
  AttemptOutcome,
  AttemptSchema,
  type Call,
  CallKind as ProtoCallKind,
  CallSchema,
  type StatusEvent,
  StatusEventSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import {
  type AttemptRecord,
  type CallKind,
  type CallRecord,
  CallState,
  type EventRecord,
  VerificationState,
} from "./model.js";
import { isTerminal, isVerificationEvent } from "./states.js";

export function callToProto(call: CallRecord, attempts: readonly Attempt[] = []): Call {
  return create(CallSchema, {
    callId: call.callId,
    provider: call.provider,
    providerCallId: call.providerCallId,
    phoneNumberMasked: call.phoneMasked,
    playTimes: call.playTimes,
    clientReference: call.clientReference,
    metadata: { ...call.metadata },
    state: call.state,
    failureReason: call.failureReason,
    failureReasonProvisional: call.reasonProvisional,
    createTime: timestampFromMs(call.createdAtMs),
    updateTime: timestampFromMs(call.updatedAtMs),
    attempts: [...attempts],
    kind: KINDS[call.kind],
    templateName: call.templateName,
  });
}

const KINDS: Record<CallKind, ProtoCallKind> = {
  verification: ProtoCallKind.VERIFICATION,
  notification: ProtoCallKind.NOTIFICATION,
  ivr: ProtoCallKind.IVR,
};

export function eventToProto(event: EventRecord): StatusEvent {
  return create(StatusEventSchema, {
    sequence: BigInt(event.sequence),
    callId: event.callId,
    clientReference: event.clientReference,
    state: event.state,
    failureReason: event.failureReason,
    // A verification event repeats the call's state but never ends it (see StatusEvent).
    terminal: isVerificationEvent(event) ? false : isTerminal(event.state) && !event.provisional && !event.continues,
    provider: event.provider,
    providerCallId: event.providerCallId,
    providerCode: event.providerCode,
    providerText: event.providerText,
    occurTime: event.occurredAtMs === undefined ? undefined : timestampFromMs(event.occurredAtMs),
    recordTime: timestampFromMs(event.recordedAtMs),
    provisional: event.provisional,
    attempt: event.attempt,
    verification: event.verification ?? VerificationState.UNSPECIFIED,
    pressedKey: event.pressedKey ?? "",
    durationSeconds: event.durationSeconds ?? 0,
    answerTime: event.answeredAtMs === undefined ? undefined : timestampFromMs(event.answeredAtMs),
    endTime: event.endedAtMs === undefined ? undefined : timestampFromMs(event.endedAtMs),
  });
}

const OUTCOMES: Record<AttemptRecord["outcome"], AttemptOutcome> = {
  pending: AttemptOutcome.UNSPECIFIED,
  accepted: AttemptOutcome.ACCEPTED,
  rejected: AttemptOutcome.REJECTED,
  ambiguous: AttemptOutcome.AMBIGUOUS,
};

/**
 * Each attempt with the state its call reached and, if it failed, why: from `events`, or,
 * for the call's current attempt, from `current` (the call record says the same as its
 * attempt's last event, without reading them: what a fresh Send answers with).
 */
export function attemptsToProto(
  attempts: readonly AttemptRecord[],
  events: readonly EventRecord[],
  current?: CallRecord,
): Attempt[] {
  return attempts.map((a) => {
    const own = events.filter((e) => e.callId === a.callId && e.attempt === a.attempt);
    const fromCall =
      current !== undefined && current.attempt === a.attempt && current.state !== CallState.PENDING
        ? { state: current.state, failureReason: current.failureReason }
        : undefined;
    const last = own[own.length - 1] ?? fromCall;
    return create(AttemptSchema, {
      number: a.attempt,
      provider: a.provider,
      providerCallId: a.providerCallId,
      outcome: OUTCOMES[a.outcome],
      failureReason: last?.state === CallState.FAILED ? last.failureReason : a.failureReason,
      providerCode: a.providerCode,
      providerText: a.providerText,
      startTime: timestampFromMs(a.startedAtMs),
      endTime: a.endedAtMs === undefined ? undefined : timestampFromMs(a.endedAtMs),
      state: last?.state ?? (a.outcome === "rejected" ? CallState.FAILED : CallState.PENDING),
    });
  });
}
