/**
 * The attempt model: one call may be carried by several provider requests in turn
 * (failover after a refusal, outcome fallback after a failed call). These rules are the
 * one place both store engines take them from.
 */
import { CallState, type FailureReason } from "./model.js";

/** What routing decided at Send time, kept with the call so a later attempt can follow it. */
export interface CallRoute {
  /** The route's capable providers, in order (the ones tried included). */
  readonly providers: readonly string[];
  /** Present when the call may be re-placed after it ends with one of `on`. */
  readonly fallback?: {
    readonly on: readonly FailureReason[];
    readonly maxAttempts: number;
    /** No attempt starts after this instant (ms since the epoch). */
    readonly deadlineAtMs: number;
  };
}

/**
 * The value an adapter puts in its provider's echo field for an attempt. Attempt 1
 * carries the bare call id (as every call did before attempts existed); later ones add
 * "T<n>" (letters and digits only: Kingsoft's ExtId allows nothing else).
 */
export function echoFor(callId: string, attempt: number): string {
  return attempt <= 1 ? callId : `${callId}T${attempt}`;
}

/** The call id and attempt an echo names; a value without the suffix is attempt 1. */
export function parseEcho(echo: string): { readonly callId: string; readonly attempt: number } {
  const m = /^(.+)T([2-9]|[1-9][0-9])$/.exec(echo);
  return m?.[1] !== undefined && m[2] !== undefined
    ? { callId: m[1], attempt: Number(m[2]) }
    : { callId: echo, attempt: 1 };
}

/**
 * Whether a FAILED outcome of attempt `attempt` should place another attempt: the call
 * opted in, the reason is one the route falls back on, attempts and time remain, and
 * the route has a provider not yet tried.
 */
export function fallbackDue(
  route: CallRoute | undefined,
  attempt: number,
  reason: FailureReason,
  tried: readonly string[],
  nowMs: number,
): boolean {
  const fallback = route?.fallback;
  if (route === undefined || fallback === undefined) return false;
  if (!fallback.on.includes(reason)) return false;
  if (attempt >= fallback.maxAttempts || nowMs >= fallback.deadlineAtMs) return false;
  return untried(route, tried).length > 0;
}

/** The route's providers not yet used by an attempt of the call, in route order. */
export function untried(route: CallRoute, tried: readonly string[]): string[] {
  return route.providers.filter((name) => !tried.includes(name));
}

/** A call's position for the forward-only rule, attempt first. */
export interface AttemptPosition {
  readonly attempt: number;
  readonly state: CallState;
  /** FAILED, and another attempt has been decided: nothing more applies to this attempt. */
  readonly continues: boolean;
}

/**
 * A push of an earlier attempt never moves the call (its attempt is over), and once a
 * next attempt is decided the failed one takes no more pushes.
 */
export function pushBelongsToCurrent(call: AttemptPosition, pushAttempt: number): boolean {
  return pushAttempt === call.attempt && !(call.continues && call.state === CallState.FAILED);
}
