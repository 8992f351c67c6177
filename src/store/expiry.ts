/**
 * What a deadline expiry records, the same on both engines: FAILED with reason UNKNOWN,
 * marked provisional, because we only know that no final report came, not how the call
 * ended; a provider report that still arrives replaces it (core/states changesCall).
 */
import { CallState, FailureReason } from "../core/model.js";

export interface ExpiryFields {
  readonly state: CallState;
  readonly failureReason: FailureReason;
  readonly providerCallId: string;
  readonly providerCode: string;
  readonly providerText: string;
  readonly occurredAtMs: undefined;
  readonly provisional: true;
}

export function expiryFields(providerText: string): ExpiryFields {
  return {
    state: CallState.FAILED,
    failureReason: FailureReason.UNKNOWN,
    // Empty: the call keeps its own provider id, and no provider said anything.
    providerCallId: "",
    providerCode: "",
    providerText,
    occurredAtMs: undefined,
    provisional: true,
  };
}
