/**
 * How one sandbox push maps onto the normalized status model. Shared by the webhook
 * parser and the scenario descriptions, so the documented outcome of each scenario is
 * exactly what the parser will produce.
 */
import { CallState, FailureReason } from "../../core/model.js";
import { failureReasonForCode } from "./codes.js";
import type { SandboxEvent } from "./wire.js";

const STATE_BY_EVENT: Readonly<Record<SandboxEvent, CallState>> = {
  dialing: CallState.DIALING,
  ringing: CallState.RINGING,
  answered: CallState.ANSWERED,
  completed: CallState.COMPLETED,
  failed: CallState.FAILED,
};

export function stateForEvent(event: SandboxEvent): CallState {
  return STATE_BY_EVENT[event];
}

/** Only a failure carries a reason; progress codes (100, 180, 200) mean nothing more. */
export function failureReasonForEvent(event: SandboxEvent, code: string): FailureReason {
  return event === "failed" ? failureReasonForCode(code) : FailureReason.UNSPECIFIED;
}
