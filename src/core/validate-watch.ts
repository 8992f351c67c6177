import type { WatchStatusRequest } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { WatchTarget } from "../streams/watch-events.js";
import { invalidArgument } from "./errors.js";
import { checkCallId, checkClientReference } from "./validate-fields.js";

export interface ValidWatch {
  readonly target: WatchTarget;
  /** Events with a larger sequence are sent. */
  readonly afterSequence: number;
}

/**
 * Checks a WatchStatus request with the rules Send uses for the same fields; the target
 * is scoped to the caller's tenant.
 */
export function validateWatch(request: WatchStatusRequest, tenant: string): ValidWatch {
  if (request.afterSequence > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument("after_sequence", "out of range");
  }
  return { target: watchTarget(request.target, tenant), afterSequence: Number(request.afterSequence) };
}

function watchTarget(target: WatchStatusRequest["target"], tenant: string): WatchTarget {
  switch (target.case) {
    case "callId":
      return { callId: checkCallId(target.value), tenant };
    case "clientReference":
      if (target.value === "") throw invalidArgument("client_reference", "is required");
      checkClientReference(target.value);
      return { clientReference: target.value, tenant };
    default:
      throw invalidArgument("target", "set call_id or client_reference");
  }
}
