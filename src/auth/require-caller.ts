/**
 * The one place both transports turn a request's authorization header into a Caller,
 * or refuse it with UNAUTHENTICATED and nothing about why.
 */
import type { Caller } from "../core/caller.js";
import { unauthenticated } from "../core/errors.js";
import { type Authenticator, createAuthenticator } from "./authenticator.js";

export function requireCaller(authenticator: Authenticator, authorization: string | undefined): Caller {
  const tenant = authenticator.authenticate(authorization);
  if (tenant === undefined) throw unauthenticated();
  return { tenant };
}

/** No keys: every caller is tenant "default" (embedded use, and transport tests). */
export const openAuthenticator: Authenticator = createAuthenticator({ entries: [] });
