/**
 * Huawei's own texts (callVerify `resultdesc`, the disconnect push's `stateDesc`) are
 * kept as providerText, which is stored, logged and returned by GetCall, where phone
 * numbers, codes and secrets must never appear. resultdesc names the offending
 * parameter ("The calleeNbr is invalid") and may quote its value, or the whole request,
 * whose statusUrl and feeUrl are our webhook URL in Base64, secret token included. So
 * every text taken from Huawei passes through a redactor.
 */

/** Any run of 7 or more digits: a phone number, with or without "+" and country code. */
const LONG_DIGIT_RUN = /\+?[0-9]{7,}/g;

/** Runs of Base64 characters (standard and URL-safe alphabets). */
const BASE64_RUN = /[A-Za-z0-9+/_-]+/g;

/** A quoted fragment of the Base64 callback URL this long is masked (the token is >= 16 characters). */
const MIN_FRAGMENT = 12;

const MASK = "***";

/** What a redactor must mask besides numbers. */
export interface RedactorSecrets {
  /** VOICECODE_HUAWEI_WEBHOOK_TOKEN: in the callback URL sent, or the console's. */
  readonly webhookToken?: string | undefined;
  /** The URL sent (Base64) as statusUrl and feeUrl, when one is sent. */
  readonly callbackUrl?: string | undefined;
}

/** Masks a text; `codes` are the spoken code(s) of the request, masked where they stand alone. */
export type Redactor = (text: string, codes?: readonly string[]) => string;

/**
 * A redactor for these secrets. The token is masked in every form a provider could
 * quote it in: as is (also inside the URL, URL-encoded or with JSON-escaped slashes,
 * none of which change its characters), in Base64 on its own or as part of any Base64
 * text (the three alignments), the Base64 callback URL whole, URL-encoded or in the
 * URL-safe alphabet, and any fragment of it long enough to carry part of the token.
 */
export function createRedactor(secrets: RedactorSecrets): Redactor {
  const literals = secretLiterals(secrets);
  const encodedUrls = secrets.callbackUrl === undefined ? [] : base64Forms(Buffer.from(secrets.callbackUrl, "utf8"));
  return (text, codes = []) => {
    let out = text;
    for (const literal of literals) out = out.replaceAll(literal, MASK);
    if (encodedUrls.length > 0) {
      out = out.replace(BASE64_RUN, (run) =>
        run.length >= MIN_FRAGMENT && encodedUrls.some((encoded) => encoded.includes(run)) ? MASK : run,
      );
    }
    out = out.replace(LONG_DIGIT_RUN, MASK);
    for (const code of codes) {
      // Codes are digits only (checked before sending), so no regex escaping is needed.
      if (!/^[0-9]+$/.test(code)) continue;
      out = out.replace(new RegExp(`(?<![0-9])${code}(?![0-9])`, "g"), MASK);
    }
    return out;
  };
}

/** Masks phone-number-like digit runs, and each code where it stands alone (no secrets known). */
export function redactText(text: string, codes: readonly string[] = []): string {
  return createRedactor({})(text, codes);
}

/** Every literal form of the secrets, longest first so a longer form is masked whole. */
function secretLiterals(secrets: RedactorSecrets): string[] {
  const forms = new Set<string>();
  const token = secrets.webhookToken;
  if (token !== undefined && token !== "") {
    forms.add(token);
    forms.add(encodeURIComponent(token));
    for (const core of tokenBase64Cores(Buffer.from(token, "utf8"))) {
      for (const form of alphabets(core)) forms.add(form);
    }
  }
  if (secrets.callbackUrl !== undefined) {
    for (const encoded of base64Forms(Buffer.from(secrets.callbackUrl, "utf8"))) forms.add(encoded);
  }
  return [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

/** The Base64 of `bytes` in both alphabets, padded and URL-encoded too. */
function base64Forms(bytes: Buffer): string[] {
  const encoded = bytes.toString("base64");
  return [...new Set([encoded, encodeURIComponent(encoded), ...alphabets(encoded), encoded.replace(/=+$/, "")])];
}

function alphabets(base64: string): string[] {
  return [base64, base64.replaceAll("+", "-").replaceAll("/", "_")];
}

/**
 * The Base64 characters that depend on the token's bytes alone, for each of the three
 * byte offsets the token can have inside a longer Base64-encoded text (a Base64 digit
 * holds 6 bits: the digits overlapping the neighbours' bytes differ from text to text).
 */
function tokenBase64Cores(token: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), token]).toString("base64");
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + token.length)) / 6);
    cores.push(encoded.slice(first, end));
  }
  return cores;
}
