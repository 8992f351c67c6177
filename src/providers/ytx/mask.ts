/**
 * The raw push is kept as providerText for audit, since ytx's push format is unknown and
 * a captured body is how it will be learnt. Stored text must hold no full phone number
 * and no verification code: every run of 7+ digits except the call's own id keeps only
 * its last four digits, and a field named like the request's `code` is blanked.
 */

export const PROVIDER_TEXT_MAX_CHARS = 2048;

const CODE_KEY = "(?:code|verify_?code|verification_?code|captcha)";
const JSON_CODE_FIELD = new RegExp(`("${CODE_KEY}"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|-?[\\d.eE+-]+)`, "gi");
const FORM_CODE_FIELD = new RegExp(`(^|&)(${CODE_KEY})=[^&]*`, "gi");
const DIGIT_RUN = /\d{7,}/g;

/** Masked and capped copy of `text`; `keep` (the provider call id) stays readable. */
export function maskPushText(text: string, keep: string): string {
  const masked = maskDigitRuns(text.replace(JSON_CODE_FIELD, '$1"***"').replace(FORM_CODE_FIELD, "$1$2=***"), keep);
  return cap(masked, PROVIDER_TEXT_MAX_CHARS);
}

/** Every run of 7+ digits but `keep` reduced to its last four ("13911281234" -> "*******1234"). */
export function maskDigitRuns(text: string, keep = ""): string {
  return text.replace(DIGIT_RUN, (run) => (run === keep ? run : "*".repeat(run.length - 4) + run.slice(-4)));
}

/**
 * A text from ytx's API answer (statusMsg), which may quote the request: each secret
 * (the code, the dialled number) standing alone is replaced first, so that masking a
 * long code's digit run cannot leave its last four digits behind, then phone-like runs.
 */
export function maskApiText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === "") continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "g"), "***");
  }
  return cap(maskDigitRuns(out), PROVIDER_TEXT_MAX_CHARS);
}

function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Never leave half a surrogate pair behind.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
