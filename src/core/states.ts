import { CallState } from "./model.js";

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
