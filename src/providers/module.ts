/**
 * How a provider folder plugs into the server without the server knowing its wire
 * format: it reads its own environment variables, says whether it is usable, and
 * builds its adapter. src/providers/index.ts lists the modules; src/config.ts asks
 * each one once at start-up.
 */
import type { Logger } from "pino";
import type { Provider } from "../core/provider.js";

/** Raw process environment, empty strings already treated as unset. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface ProviderDeps {
  /**
   * The public base URL of our webhook port (no trailing slash), when configured.
   * Providers that take callback URLs per request (Huawei) build them from it.
   */
  readonly webhookPublicUrl: string | undefined;
  readonly logger: Logger;
}

export type ProviderSetup =
  /** None of the provider's variables is set: it is simply not offered. */
  | { readonly status: "absent" }
  /** Some are set but not all: reported at start-up and not offered for routing. */
  | { readonly status: "incomplete"; readonly missing: readonly string[] }
  /** A variable has a bad value: a configuration error (the process exits 78). */
  | { readonly status: "invalid"; readonly errors: readonly string[] }
  | {
      readonly status: "ready";
      /** Secret path segment of this provider's webhook route (/webhooks/<name>/<token>). */
      readonly webhookToken: string;
      /** Non-secret facts for the start-up log (endpoint, app id), never credentials. */
      readonly summary: Readonly<Record<string, string>>;
      create(deps: ProviderDeps): Provider;
    };

export interface ProviderModule {
  readonly name: string;
  /** Every variable the module reads, for docs and the README test. */
  readonly envVars: readonly string[];
  /**
   * The request rate the provider documents as its default limit, if any: routing keeps
   * below it (VOICECODE_PROVIDER_RATE_LIMITS overrides) instead of collecting refusals.
   */
  readonly requestsPerSecond?: number;
  configure(env: Env): ProviderSetup;
}
