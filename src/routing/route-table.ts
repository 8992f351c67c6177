/**
 * The routing table: an ordered list of providers per destination, matched by the
 * longest E.164 prefix. Built once from configuration (src/routing/parse-routes.ts).
 */
import type { FailureReason } from "../core/model.js";

/** Opt-in re-placement of a call that ended with one of `on`, through the route's next provider. */
export interface OutcomeFallback {
  readonly on: readonly FailureReason[];
  /** Attempts in all, the first included (2 = one fallback attempt). */
  readonly maxAttempts: number;
  /** No new attempt starts later than this after the Send (ms). */
  readonly deadlineMs: number;
}

export interface Route {
  /** "+" and 1-15 digits; "+" alone matches every number. */
  readonly prefix: string;
  readonly providers: readonly string[];
  readonly fallback: OutcomeFallback | undefined;
}

export interface RouteTable {
  /** The route with the longest prefix of `e164`, or undefined: no route. */
  match(e164: string): Route | undefined;
  readonly routes: readonly Route[];
}

export function createRouteTable(routes: readonly Route[]): RouteTable {
  // Longest first, so the first prefix that matches is the longest one.
  const ordered = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    match: (e164) => ordered.find((route) => e164.startsWith(route.prefix)),
    routes: ordered,
  };
}
