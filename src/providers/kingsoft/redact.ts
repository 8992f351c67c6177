/**
 * Status-report texts end up in stored events, where phone numbers must never appear.
 * ErrDesc is free carrier/platform text that may quote the callee, so it passes
 * through here before it becomes providerText; so does the raw text of a report we
 * could not use, which is kept for audit.
 */
import { maskPhone } from "../../core/phone.js";

/** Any run of 7 or more digits: a phone number, with or without "+" and country code. */
const LONG_DIGIT_RUN = /\+?[0-9]{7,}/g;

/** Longest providerText kept from a report: every documented ErrDesc is far shorter. */
export const MAX_REPORT_TEXT = 512;

/** Masks phone-number-like digit runs, then truncates. */
export function redactReportText(text: string): string {
  return text.replace(LONG_DIGIT_RUN, "***").slice(0, MAX_REPORT_TEXT);
}

/**
 * Masks each phone-number-like digit run the way maskPhone masks a number: only the
 * last four digits (and a "+country code" when there is one) stay readable, so an
 * operator can tell which callee a report was about without being able to dial it.
 */
export function maskNumbers(text: string): string {
  return text.replace(LONG_DIGIT_RUN, (run) =>
    run.startsWith("+") ? maskPhone(run) : `${"*".repeat(run.length - 4)}${run.slice(-4)}`,
  );
}
