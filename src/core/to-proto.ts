/** Domain records to generated messages: the one place the two meet. */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Call,
  CallSchema,
  type StatusEvent,
  StatusEventSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import type { CallRecord, EventRecord } from "./model.js";
import { isTerminal } from "./states.js";

export function callToProto(call: CallRecord): Call {
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
  });
}

export function eventToProto(event: EventRecord): StatusEvent {
  return create(StatusEventSchema, {
    sequence: BigInt(event.sequence),
    callId: event.callId,
    clientReference: event.clientReference,
    state: event.state,
    failureReason: event.failureReason,
    terminal: isTerminal(event.state) && !event.provisional,
    provider: event.provider,
    providerCallId: event.providerCallId,
    providerCode: event.providerCode,
    providerText: event.providerText,
    occurTime: event.occurredAtMs === undefined ? undefined : timestampFromMs(event.occurredAtMs),
    recordTime: timestampFromMs(event.recordedAtMs),
    provisional: event.provisional,
  });
}
