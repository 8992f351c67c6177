/**
 * Status-report texts end up in stored events, where phone numbers must never appear.
 * ErrDesc is free carrier/platform text that may quote the callee, so it passes
 * through here before it becomes providerText.
 */

/** Any run of 7 or more digits: a phone number, with or without "+" and country code. */
const LONG_DIGIT_RUN = /\+?[0-9]{7,}/g;

/** Longest providerText kept from a report: every documented ErrDesc is far shorter. */
export const MAX_REPORT_TEXT = 512;

/** Masks phone-number-like digit runs, then truncates. */
export function redactReportText(text: string): string {
  return text.replace(LONG_DIGIT_RUN, "***").slice(0, MAX_REPORT_TEXT);
}
