/**
 * Limits on Send, all enforced before any provider is asked:
 *  - destination policy (country allow-list, prefix deny-list): PERMISSION_DENIED, decided
 *    here from the number alone;
 *  - rates and caps (per destination number across every tenant, per tenant): counted by
 *    the store in the transaction that records the call, so concurrent Sends on any
 *    number of replicas let exactly the allowed count through (see LimitRule).
 */
import type { Keyring } from "../secrets/keyring.js";
import type { LimitExceeded, LimitRule } from "../store/store.js";
import { VoiceCodeError } from "./errors.js";

export interface WindowLimit {
  /** Calls allowed in any window of `windowMs`. */
  readonly max: number;
  readonly windowMs: number;
  /** As configured ("1m"), for error metadata and docs. */
  readonly label: string;
}

export interface LimitsConfig {
  /** Per destination number, counted across all tenants and all attempts. Empty: off. */
  readonly number: readonly WindowLimit[];
  /** Per tenant, calls in any one second (burst). undefined: off. */
  readonly tenantPerSecond: number | undefined;
  /** Per tenant, calls in any 24 hours. undefined: off. */
  readonly tenantDaily: number | undefined;
  /** Country calling codes ("86") that may be called; "any" turns the check off. */
  readonly allowedCountries: readonly string[] | "any";
  /** E.164 prefixes ("+86168") that may never be called. */
  readonly deniedPrefixes: readonly string[];
}

export const DEFAULT_LIMITS: LimitsConfig = {
  number: [
    { max: 1, windowMs: 60_000, label: "1m" },
    { max: 5, windowMs: 3_600_000, label: "1h" },
    { max: 10, windowMs: 86_400_000, label: "1d" },
  ],
  tenantPerSecond: 10,
  tenantDaily: 10_000,
  allowedCountries: ["86"],
  deniedPrefixes: [],
};

/** No limit at all: for tests and benchmarks that send to one number over and over. */
export const NO_LIMITS: LimitsConfig = {
  number: [],
  tenantPerSecond: undefined,
  tenantDaily: undefined,
  allowedCountries: "any",
  deniedPrefixes: [],
};

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Reason of a per-number refusal: the smallest of minute/hour/day that holds the window. */
export function numberLimitReason(windowMs: number): string {
  if (windowMs <= MINUTE) return "NUMBER_MINUTE_LIMIT";
  if (windowMs <= HOUR) return "NUMBER_HOURLY_LIMIT";
  return "NUMBER_DAILY_LIMIT";
}

/** A validated number as Send and Notify hold it (src/core/phone.ts parsed it once). */
export interface DestinationNumber {
  readonly phoneNumber: string;
  readonly countryCallingCode: string;
}

/** PERMISSION_DENIED when the destination policy forbids the number; undefined when allowed. */
export function checkDestination(phone: DestinationNumber, limits: LimitsConfig): VoiceCodeError | undefined {
  const e164 = phone.phoneNumber;
  if (limits.allowedCountries !== "any") {
    const country = phone.countryCallingCode;
    if (!limits.allowedCountries.includes(country)) {
      return new VoiceCodeError("PERMISSION_DENIED", "phone_number: calls to this country are not allowed", {
        field: "phone_number",
        detail: { reason: "DESTINATION_COUNTRY_NOT_ALLOWED", metadata: { countryCode: country } },
      });
    }
  }
  if (limits.deniedPrefixes.some((prefix) => e164.startsWith(prefix))) {
    return new VoiceCodeError("PERMISSION_DENIED", "phone_number: calls to this number range are not allowed", {
      field: "phone_number",
      detail: { reason: "DESTINATION_PREFIX_DENIED" },
    });
  }
  return undefined;
}

/**
 * The counting rules for one Send. Numbers are counted under their keyed hash (purpose
 * "phone-number"), never in clear; tenants under their configured name.
 */
export function limitRules(limits: LimitsConfig, keyring: Keyring, tenant: string, e164: string): LimitRule[] {
  const rules: LimitRule[] = [];
  if (limits.number.length > 0) {
    const key = `n:${keyring.hash("phone-number", e164)}`;
    for (const w of limits.number) {
      rules.push({
        key,
        max: w.max,
        windowMs: w.windowMs,
        reason: numberLimitReason(w.windowMs),
        metadata: { limit: String(w.max), window: w.label },
      });
    }
  }
  const key = `t:${tenant}`;
  if (limits.tenantPerSecond !== undefined) {
    rules.push({
      key,
      max: limits.tenantPerSecond,
      windowMs: SECOND,
      reason: "TENANT_RATE_LIMIT",
      metadata: { limit: String(limits.tenantPerSecond), window: "1s" },
    });
  }
  if (limits.tenantDaily !== undefined) {
    rules.push({
      key,
      max: limits.tenantDaily,
      windowMs: DAY,
      reason: "TENANT_DAILY_CAP",
      metadata: { limit: String(limits.tenantDaily), window: "1d" },
    });
  }
  return rules;
}

/** RESOURCE_EXHAUSTED with ErrorInfo and RetryInfo for a refusal the store reported. */
export function limitError(refused: LimitExceeded): VoiceCodeError {
  const what = refused.rule.key.startsWith("n:") ? "this number" : "this caller";
  return new VoiceCodeError(
    "RESOURCE_EXHAUSTED",
    `limit reached for ${what} (${refused.rule.metadata.limit ?? "?"} per ${refused.rule.metadata.window ?? "?"}); retry later`,
    {
      detail: {
        reason: refused.rule.reason,
        metadata: refused.rule.metadata,
        retryAfterMs: refused.retryAfterMs,
      },
    },
  );
}
