/**
 * Places a call's attempts along its route: ask one provider; if it definitively placed
 * no call for a reason on its side, record that and move to the next provider of the
 * route (recorded before that provider is asked); stop at an acceptance, a final
 * refusal, or an ambiguous answer (the phone may be ringing: never try another). Send
 * and the outcome-fallback dispatcher both end here.
 */
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { mayFailOver } from "../routing/failover.js";
import type { Router } from "../routing/router.js";
import type { Store } from "../store/store.js";
import { tracedProviderSend } from "../telemetry/traced.js";
import { echoFor } from "./attempts.js";
import { VoiceCodeError } from "./errors.js";
import { type CoreMetrics, countFinishedCalls, providerOutcomeLabel } from "./metrics.js";
import type { AttemptRecord, CallRecord } from "./model.js";
import { type Provider, type ProviderNotifyRequest, type SendOutcome, placeRequest } from "./provider.js";

export interface PlaceDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly router: Router;
  readonly metrics: CoreMetrics;
  /** Upper bound for one provider request, in milliseconds. */
  readonly providerTimeoutMs: number;
  readonly now: () => number;
}

/** What a provider needs to say the code: never stored in clear, never logged. */
export interface PlaceRequest {
  readonly phoneNumber: string;
  readonly code: string;
  readonly playTimes: number;
}

/** What a provider needs for a notification: the parameters are never stored or logged. */
export type PlaceNotifyRequest = Omit<ProviderNotifyRequest, "callId">;

export interface PlaceOptions {
  readonly callId: string;
  /** The call's tenant, for metrics. */
  readonly tenant: string;
  /** The attempt `provider` carries; already recorded PENDING. */
  readonly attempt: number;
  readonly provider: Provider;
  /** The route's capable providers, in order. */
  readonly candidates: readonly Provider[];
  /** Providers used by this call's attempts so far, `provider` included. */
  readonly tried: readonly string[];
  /** False for a pinned provider: its refusal ends the call. */
  readonly failover: boolean;
  readonly request: PlaceRequest | PlaceNotifyRequest;
  readonly log: Logger;
}

/** Where the attempts left the call; `attempts` when the store answered with them (else read them). */
export interface Placed {
  readonly call: CallRecord;
  readonly attempts?: readonly AttemptRecord[] | undefined;
}

export async function placeAttempts(deps: PlaceDeps, options: PlaceOptions): Promise<Placed> {
  const { callId, request, log } = options;
  const tried = [...options.tried];
  let attempt = options.attempt;
  let provider = options.provider;
  for (;;) {
    // The attempt's fields go into each line rather than a child logger: a child costs
    // its bindings' serialization on every attempt, logged or not.
    const at = { provider: provider.name, attempt };
    const asked = performance.now();
    const outcome = await ask(provider, { callId: echoFor(callId, attempt), ...request }, deps.providerTimeoutMs, log, at);
    deps.metrics.providerRequest(provider.name, providerOutcomeLabel(outcome), options.tenant, (performance.now() - asked) / 1000);
    deps.router.report(provider.name, outcome);
    if (outcome.kind === "ambiguous") {
      // The call may have been placed: keep it PENDING; the provider's callbacks carry
      // our call id and will move it on. Retrying elsewhere could ring the phone twice.
      log.warn({ ...at, detail: outcome.detail }, "provider outcome unknown; call left pending");
      await deps.store.recordAmbiguous(callId, attempt, outcome.detail, deps.now());
      const call = await deps.store.getCall(callId);
      if (call === undefined) throw new VoiceCodeError("INTERNAL", "internal error");
      return { call };
    }
    let next: Provider | undefined;
    if (options.failover && mayFailOver(outcome)) {
      const acquired = await deps.router.acquire(options.candidates.filter((p) => !tried.includes(p.name)));
      next = acquired.provider;
      if (acquired.skipped.length > 0) log.info({ ...at, skipped: acquired.skipped }, "route: providers passed over");
    }
    const applied = await deps.store.recordSendResult(callId, outcome, deps.now(), {
      attempt,
      ...(next === undefined ? {} : { next: next.name }),
    });
    deps.bus.publish(applied.events);
    // A refusal ends the call here; an acceptance may apply parked pushes that end it.
    countFinishedCalls(deps.metrics, applied.events);
    if (outcome.kind === "accepted") {
      log.info({ ...at, providerCallId: outcome.providerCallId }, "call accepted");
      return { call: applied.call, attempts: applied.attempts };
    }
    if (next === undefined) {
      log.info({ ...at, providerCode: outcome.providerCode }, "provider refused the call");
      return { call: applied.call, attempts: applied.attempts };
    }
    log.info({ ...at, providerCode: outcome.providerCode, next: next.name }, "provider placed no call; failing over");
    tried.push(next.name);
    attempt += 1;
    provider = next;
  }
}

async function ask(
  provider: Provider,
  request: { callId: string } & (PlaceRequest | PlaceNotifyRequest),
  timeoutMs: number,
  log: Logger,
  at: { readonly provider: string; readonly attempt: number },
): Promise<SendOutcome> {
  // Deliberately not the caller's signal: once we decided to place the call, a client
  // hanging up must not leave the record without the provider's answer. A timer cleared
  // on the answer, not AbortSignal.timeout: that one registers every signal for
  // finalization and keeps its timer until it fires (a few % of a Send's CPU).
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
    timeoutMs,
  );
  timer.unref();
  try {
    // A client span per provider request; no traceparent goes to the provider (docs/deployment.md).
    return await tracedProviderSend(provider, () => placeRequest(provider, request, timeout.signal));
  } catch (err) {
    log.error({ ...at, err: errorSummary(err) }, "provider adapter threw");
    return { kind: "ambiguous", detail: "provider adapter failed" };
  } finally {
    clearTimeout(timer);
  }
}

function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: "unknown", message: String(err) };
}
