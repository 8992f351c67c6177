import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** A valid E.164 number with its country calling code, parsed once per request. */
export interface E164 {
  readonly number: string;
  /** "86" for +86...: what masking and the destination policy read. */
  readonly countryCallingCode: string;
}

/**
 * Parses a number that must already be E.164 ("+8613711112222"). The "max" metadata
 * checks real number ranges, not just lengths, so an impossible number fails here
 * instead of costing a provider call. Returns undefined when invalid.
 */
export function parseE164Number(input: string): E164 | undefined {
  const parsed = parsePhoneNumberFromString(input);
  if (parsed === undefined || !parsed.isValid()) return undefined;
  // Spaces, dashes or an extension would parse too; the API promises strict E.164.
  return parsed.number === input ? { number: parsed.number, countryCallingCode: parsed.countryCallingCode } : undefined;
}

/** parseE164Number, the number alone. */
export function parseE164(input: string): string | undefined {
  return parseE164Number(input)?.number;
}

/**
 * Keeps the country code and the last four digits: enough to recognise, useless to dial.
 * A caller that has parsed the number passes its calling code (parsing costs more than
 * the rest of masking).
 */
export function maskPhone(e164: string, countryCallingCode?: string): string {
  const code = countryCallingCode ?? parsePhoneNumberFromString(e164)?.countryCallingCode;
  const prefix = code === undefined ? "+" : `+${code}`;
  const rest = e164.slice(prefix.length);
  const visible = rest.slice(-4);
  return prefix + "*".repeat(Math.max(0, rest.length - visible.length)) + visible;
}
