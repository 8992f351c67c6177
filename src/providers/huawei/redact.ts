/**
 * Huawei's own texts (callVerify `resultdesc`, the disconnect push's `stateDesc`) are
 * kept as providerText, which is stored and logged, where phone numbers and codes must
 * never appear. resultdesc names the offending parameter ("The calleeNbr is invalid")
 * and may quote its value, so every text taken from the wire passes through here.
 */

/** Any run of 7 or more digits: a phone number, with or without "+" and country code. */
const LONG_DIGIT_RUN = /\+?[0-9]{7,}/g;

/** Masks phone-number-like digit runs, and each secret (the spoken code) where it stands alone. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(LONG_DIGIT_RUN, "***");
  for (const secret of secrets) {
    // Codes are digits only (checked before sending), so no regex escaping is needed.
    if (!/^[0-9]+$/.test(secret)) continue;
    out = out.replace(new RegExp(`(?<![0-9])${secret}(?![0-9])`, "g"), "***");
  }
  return out;
}
