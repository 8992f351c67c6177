/**
 * Provider texts end up in stored events and logs, where phone numbers and codes must
 * never appear. Tencent's messages and callbacks may quote request values, so every
 * text taken from the wire passes through here first.
 */

/** Any run of 7 or more digits (a phone number, with or without "+" and country code). */
const LONG_DIGIT_RUN = /\+?[0-9]{7,}/g;

/**
 * Masks phone-number-like digit runs, and the given secrets (e.g. the spoken code)
 * where they stand alone as a digit run.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(LONG_DIGIT_RUN, "***");
  for (const secret of secrets) {
    if (secret === "") continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`(?<![0-9])${escaped}(?![0-9])`, "g"), "***");
  }
  return out;
}
