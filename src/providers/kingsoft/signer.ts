/**
 * Kingsoft Cloud OpenAPI signing (SignatureVersion 1.0, HMAC-SHA256), exactly as the
 * voice doc describes it: every parameter except Signature, sorted by name, each name
 * and value RFC 3986-encoded, joined `k=v` with `&`; the signature is the lowercase hex
 * HMAC-SHA256 of that string under the secret key. Nothing else (no method, host or
 * path) is signed. Pure functions: time is an input, so the doc's vector reproduces.
 */
import { createHmac } from "node:crypto";

export const KINGSOFT_SERVICE = "voice";
export const KINGSOFT_VERSION = "2020-05-01";
export const KINGSOFT_SIGNATURE_VERSION = "1.0";
export const KINGSOFT_SIGNATURE_METHOD = "HMAC-SHA256";

/** Characters RFC 3986 calls unreserved; they are the only ones left literal. */
const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes (PHP's rawurlencode): `%XX` in upper
 * case for everything but `A-Z a-z 0-9 - _ . ~`, so a space is `%20`, never `+`.
 */
export function percentEncode(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The string to sign: parameters other than Signature, sorted by name in byte order
 * (PHP's ksort SORT_STRING in the doc's sample), encoded and joined.
 */
export function canonicalQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((key) => key !== "Signature")
    .sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")))
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key] ?? "")}`)
    .join("&");
}

/** Lowercase hex HMAC-SHA256 of the canonical string under the secret key. */
export function signCanonical(canonical: string, secretKey: string): string {
  return createHmac("sha256", secretKey).update(canonical, "utf8").digest("hex");
}

/** `YYYY-MM-DDThh:mm:ssZ` in UTC, the only Timestamp form the API accepts (no milliseconds). */
export function formatTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export interface SignRequestInput {
  readonly accessKey: string;
  readonly secretKey: string;
  /** The operation, e.g. CallVerify. */
  readonly action: string;
  readonly timestampMs: number;
  /** Optional common parameter, e.g. cn-beijing-6; signed when present. */
  readonly region?: string | undefined;
  /** The operation's own parameters. */
  readonly business: Readonly<Record<string, string>>;
}

/**
 * Every parameter of one request, common ones included, with its Signature. The
 * parameter is spelled `Accesskey` (lower-case k): the doc's vector only reproduces with
 * that spelling, and the name's sort position changes with it.
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const params: Record<string, string> = {
    ...input.business,
    Accesskey: input.accessKey,
    Service: KINGSOFT_SERVICE,
    Action: input.action,
    Version: KINGSOFT_VERSION,
    Timestamp: formatTimestamp(input.timestampMs),
    SignatureVersion: KINGSOFT_SIGNATURE_VERSION,
    SignatureMethod: KINGSOFT_SIGNATURE_METHOD,
  };
  if (input.region !== undefined) params.Region = input.region;
  params.Signature = signCanonical(canonicalQuery(params), input.secretKey);
  return params;
}

/**
 * The x-www-form-urlencoded body: the canonical encoding is valid form encoding, and
 * using it means the provider decodes exactly the values that were signed.
 */
export function formBody(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`)
    .join("&");
}
