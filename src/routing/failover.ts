/**
 * Which refusals may move a Send to the route's next provider. Only a definite "no call
 * was placed" for a reason on the provider's side qualifies: another provider cannot fix
 * a bad number or a person who blocks calls, and a per-number frequency limit is an
 * anti-abuse rule that failing over would circumvent. An ambiguous outcome never
 * qualifies: the phone may already be ringing.
 */
import { FailureReason } from "../core/model.js";
import type { SendOutcome } from "../core/provider.js";

const PROVIDER_SIDE: ReadonlySet<FailureReason> = new Set([
  FailureReason.AUTH_ERROR,
  FailureReason.CONFIG_ERROR,
  FailureReason.INSUFFICIENT_BALANCE,
  FailureReason.RATE_LIMITED,
  FailureReason.PROVIDER_ERROR,
]);

export function mayFailOver(outcome: SendOutcome): boolean {
  if (outcome.kind !== "rejected") return false;
  // The adapter knows its codes: a rate limit about the number, not the account, says so.
  if (outcome.scope === "number") return false;
  return PROVIDER_SIDE.has(outcome.reason);
}

/** Refusals that count against a provider's circuit breaker (its own trouble, not the request's). */
export function isProviderFault(outcome: SendOutcome): boolean {
  if (outcome.kind === "ambiguous") return true;
  return mayFailOver(outcome);
}
