/**
 * Chooses the providers a Send may use, in order, and guards each with its circuit
 * breaker and client-side rate limit. Knows no wire format: a provider's capabilities
 * are its adapter's `check` (the limits it declares and would refuse on), so a route
 * skips a provider that cannot take the request before any network call.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { VoiceCodeError, invalidArgument } from "../core/errors.js";
import {
  type AnyProviderRequest,
  type Provider,
  type RequestKind,
  type SendOutcome,
  checkRequest,
  requestKind,
  supportsKind,
} from "../core/provider.js";
import type { ProviderRegistry } from "../core/providers.js";
import { type BreakerState, type CircuitBreaker, createCircuitBreaker } from "./circuit-breaker.js";
import { isProviderFault } from "./failover.js";
import { type RateLimiter, createRateLimiter } from "./rate-limiter.js";
import type { OutcomeFallback, RouteTable } from "./route-table.js";

export interface RouterOptions {
  readonly registry: ProviderRegistry;
  /** Undefined: no table; every Send goes to the default provider, as before routing existed. */
  readonly table: RouteTable | undefined;
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  /** Requests per second per provider name; a provider not listed is not limited. */
  readonly rateLimits: Readonly<Record<string, number>>;
  /** Longest a Send waits for its provider's rate limit before moving to the next one. */
  readonly maxRateWaitMs: number;
  /** Used by a Send that asks for an outcome fallback on a route that configures none. */
  readonly defaultFallback: OutcomeFallback;
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onBreakerChange?: (provider: string, state: BreakerState) => void;
}

/** Which providers a Send may use, in order. */
export interface RoutePlan {
  /** The matched prefix, or "pinned" / "default". */
  readonly route: string;
  /** Capable providers in route order (skipped ones are in `incapable`). */
  readonly providers: readonly Provider[];
  /** True when the caller named the provider: no failover, no fallback. */
  readonly pinned: boolean;
  /**
   * True for a Send routed by the table: breakers and rate limits choose among the
   * providers. A pinned or default Send goes to its one provider as it always did.
   */
  readonly guarded: boolean;
  /** The route's outcome fallback, when it enables one. */
  readonly fallback: OutcomeFallback | undefined;
  /** What a Send that asks for a fallback gets on a route that enables none. */
  readonly defaultFallback: OutcomeFallback;
}

/** Why a provider of the route was passed over for one attempt. */
export interface Skip {
  readonly provider: string;
  readonly why: "circuit open" | "rate limited" | "incapable";
}

export interface Router {
  /**
   * The plan for a request. Throws INVALID_ARGUMENT for a pinned provider that cannot
   * take the request (naming its limit) or when no provider of the route can;
   * FAILED_PRECONDITION "no route" when the table has no entry for the number. A
   * notification (its kind read from the request) only goes to providers that place
   * that kind: a pinned or default provider that does not is FAILED_PRECONDITION
   * naming it, and a route keeps only the providers that do.
   */
  plan(pinned: string, request: AnyProviderRequest): RoutePlan;
  /**
   * The first provider of `candidates` (in order) whose breaker and rate limit let a
   * request go now, after at most maxRateWaitMs; undefined when none does.
   */
  acquire(candidates: readonly Provider[]): Promise<{ provider: Provider; skipped: Skip[] } | { provider: undefined; skipped: Skip[] }>;
  /** Gives back what acquire took for a request that was not sent after all. */
  release(provider: string): void;
  /** Feeds the provider's answer to its breaker. */
  report(provider: string, outcome: SendOutcome): void;
  breakerState(provider: string): BreakerState;
}

export function createRouter(options: RouterOptions): Router {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const breakers = new Map<string, CircuitBreaker>();
  const limiters = new Map<string, RateLimiter>();
  for (const name of options.registry.names) {
    breakers.set(
      name,
      createCircuitBreaker({
        ...options.breaker,
        now: options.now,
        onChange: (state) => options.onBreakerChange?.(name, state),
      }),
    );
    const perSecond = options.rateLimits[name];
    if (perSecond !== undefined) limiters.set(name, createRateLimiter({ perSecond, now: options.now }));
  }
  const breaker = (name: string): CircuitBreaker => {
    const b = breakers.get(name);
    if (b === undefined) throw new Error(`router: no breaker for ${name}`);
    return b;
  };

  return {
    plan(pinned, request) {
      const kind = requestKind(request);
      if (pinned !== "" || options.table === undefined) {
        const provider = options.registry.resolve(pinned);
        if (!supportsKind(provider, kind)) throw cannotPlace(provider.name, kind, pinned !== "");
        const problem = checkRequest(provider, request);
        if (problem !== undefined) throw invalidArgument(problem.field, problem.problem);
        return {
          route: pinned !== "" ? "pinned" : "default",
          providers: [provider],
          pinned: pinned !== "",
          guarded: false,
          fallback: undefined,
          defaultFallback: options.defaultFallback,
        };
      }
      const route = options.table.match(request.phoneNumber);
      if (route === undefined) {
        throw new VoiceCodeError(
          "FAILED_PRECONDITION",
          `phone_number: no route for ${countryPrefix(request.phoneNumber)} numbers; the routing table covers ${options.table.routes.map((r) => r.prefix).join(", ")}`,
          { field: "phone_number" },
        );
      }
      const capable: Provider[] = [];
      const problems: string[] = [];
      const able = route.providers.filter((name) => {
        const provider = options.registry.get(name);
        return provider !== undefined && supportsKind(provider, kind);
      });
      if (able.length === 0) {
        throw new VoiceCodeError(
          "FAILED_PRECONDITION",
          `provider: no provider on the route for ${route.prefix} places ${KIND_TEXT[kind]} (route: ${route.providers.join(", ")})`,
          { field: "provider" },
        );
      }
      for (const name of able) {
        const provider = options.registry.get(name);
        if (provider === undefined) continue;
        const problem = checkRequest(provider, request);
        if (problem === undefined) capable.push(provider);
        else problems.push(`${name}: ${problem.field}: ${problem.problem}`);
      }
      if (capable.length === 0) {
        throw new VoiceCodeError(
          "INVALID_ARGUMENT",
          `no provider on the route for ${route.prefix} can take this request (${problems.join("; ")})`,
        );
      }
      return {
        route: route.prefix,
        providers: capable,
        pinned: false,
        guarded: true,
        fallback: route.fallback,
        defaultFallback: route.fallback ?? options.defaultFallback,
      };
    },

    async acquire(candidates) {
      const skipped: Skip[] = [];
      for (const provider of candidates) {
        const b = breaker(provider.name);
        if (!b.tryAcquire()) {
          skipped.push({ provider: provider.name, why: "circuit open" });
          continue;
        }
        // A short wait beats a provider's rate-limit refusal; a long one moves the Send on
        // to the next provider rather than queue it behind a saturated one.
        const limiter = limiters.get(provider.name);
        const wait = limiter === undefined ? 0 : limiter.reserve(options.maxRateWaitMs);
        if (wait === undefined) {
          b.release();
          skipped.push({ provider: provider.name, why: "rate limited" });
          continue;
        }
        if (wait > 0) await sleep(wait);
        return { provider, skipped };
      }
      return { provider: undefined, skipped };
    },

    release(provider) {
      breakers.get(provider)?.release();
    },

    report(provider, outcome) {
      breakers.get(provider)?.record(isProviderFault(outcome));
    },

    breakerState(provider) {
      return breaker(provider).state;
    },
  };
}

const KIND_TEXT: Readonly<Record<RequestKind, string>> = {
  verification: "verification calls",
  notification: "notification calls",
  ivr: "IVR (key press) calls",
};

/** FAILED_PRECONDITION for a provider asked for a kind of call it does not place. */
function cannotPlace(provider: string, kind: RequestKind, pinned: boolean): VoiceCodeError {
  const which = pinned ? "" : " (the default provider)";
  return new VoiceCodeError("FAILED_PRECONDITION", `provider: ${provider}${which} places no ${KIND_TEXT[kind]}`, {
    field: "provider",
  });
}

/** "+86" for a Chinese number: the country calling code, never the subscriber digits. */
function countryPrefix(e164: string): string {
  const code = parsePhoneNumberFromString(e164)?.countryCallingCode;
  return code === undefined ? "these" : `+${code}`;
}
