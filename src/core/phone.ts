import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/**
 * Parses a number that must already be E.164 ("+8613711112222"). The "max" metadata
 * checks real number ranges, not just lengths, so an impossible number fails here
 * instead of costing a provider call. Returns undefined when invalid.
 */
export function parseE164(input: string): string | undefined {
  const parsed = parsePhoneNumberFromString(input);
  if (parsed === undefined || !parsed.isValid()) return undefined;
  // Spaces, dashes or an extension would parse too; the API promises strict E.164.
  return parsed.number === input ? parsed.number : undefined;
}

/** Keeps the country code and the last four digits: enough to recognise, useless to dial. */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const prefix = parsed === undefined ? "+" : `+${parsed.countryCallingCode}`;
  const rest = e164.slice(prefix.length);
  const visible = rest.slice(-4);
  return prefix + "*".repeat(Math.max(0, rest.length - visible.length)) + visible;
}
