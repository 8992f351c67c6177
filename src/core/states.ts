import { CallState, type EventRecord, VerificationState } from "./model.js";

/**
 * Position of each state in the lifecycle. Provider pushes arrive late, twice or out
 * of order, so a call only ever moves to a strictly higher rank; both terminal
 * states share the top rank, so the first terminal event wins.
 */
const RANK: Record<CallState, number> = {
  [CallState.UNSPECIFIED]: -1,
  [CallState.PENDING]: 0,
  [CallState.ACCEPTED]: 1,
  [CallState.DIALING]: 2,
  [CallState.RINGING]: 3,
  [CallState.ANSWERED]: 4,
  [CallState.COMPLETED]: 5,
  [CallState.FAILED]: 5,
};

export function stateRank(state: CallState): number {
  return RANK[state];
}

export function isTerminal(state: CallState): boolean {
  return state === CallState.COMPLETED || state === CallState.FAILED;
}

/** True when an event in state `next` may be applied to a call in state `current`. */
export function advances(current: CallState, next: CallState): boolean {
  return RANK[next] > RANK[current];
}

/** What the rule below needs to know about a call. */
export interface CallPosition {
  readonly state: CallState;
  /** The call is FAILED with a reason a precise push may still replace. */
  readonly reasonProvisional: boolean;
}

/**
 * True when a push changes the call: it advances the lifecycle, or it is a definitive
 * terminal report for a call whose failure is only provisional. A provisional FAILED
 * is a stand-in verdict: a provider's coarse result whose exact failure code comes
 * separately, in either order (Tencent, Huawei), or our own deadline expiry, which
 * knows only that no final report came. So a precise FAILED replaces it, and so does a
 * COMPLETED (a late report that the call was answered after all), once: what replaces
 * it is not provisional. Both engines apply exactly this rule.
 */
export function changesCall(
  call: CallPosition,
  push: { readonly state: CallState; readonly provisional?: boolean | undefined },
): boolean {
  if (advances(call.state, push.state)) return true;
  return (
    call.state === CallState.FAILED &&
    isTerminal(push.state) &&
    call.reasonProvisional &&
    push.provisional !== true
  );
}

/**
 * An event a Check recorded: it repeats the call's state without moving the call, so it
 * is never the call's terminal event and never ends or extends a watch.
 */
export function isVerificationEvent(event: Pick<EventRecord, "verification">): boolean {
  return event.verification !== undefined && event.verification !== VerificationState.UNSPECIFIED;
}
