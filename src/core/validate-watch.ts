import type { WatchStatusRequest } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { WatchTarget } from "../streams/watch-events.js";
import { invalidArgument } from "./errors.js";
import { checkCallId, checkClientReference } from "./validate-fields.js";

export interface ValidWatch {
  readonly target: WatchTarget;
  /** Events with a larger sequence are sent. */
  readonly afterSequence: number;
}

/** Checks a WatchStatus request with the rules Send uses for the same fields. */
export function validateWatch(request: WatchStatusRequest): ValidWatch {
  if (request.afterSequence > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument("after_sequence", "out of range");
  }
  return { target: watchTarget(request.target), afterSequence: Number(request.afterSequence) };
}

function watchTarget(target: WatchStatusRequest["target"]): WatchTarget {
  switch (target.case) {
    case "callId":
      return { callId: checkCallId(target.value) };
    case "clientReference":
      if (target.value === "") throw invalidArgument("client_reference", "is required");
      checkClientReference(target.value);
      return { clientReference: target.value };
    default:
      throw invalidArgument("target", "set call_id or client_reference");
  }
}
