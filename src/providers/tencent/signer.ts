/**
 * Tencent Cloud API 3.0 request signing (TC3-HMAC-SHA256), step by step as the
 * provider documents it, so every intermediate value can be pinned against the
 * published worked example. Pure: the timestamp comes in, nothing reads the clock.
 *
 * The official SDK signs exactly `content-type;host`; the current doc revision also
 * signs `x-tc-action`. Both are supported so both published vectors can be pinned; the
 * client signs like the SDK.
 */
import { createHash, createHmac } from "node:crypto";

export const TC3_ALGORITHM = "TC3-HMAC-SHA256";

export interface Tc3SignInput {
  /** Default "POST". */
  readonly method?: "POST" | "GET";
  /**
   * The host to sign: the hostname only, without a port, as the official SDK signs it
   * (sign.js: `host:${urlObj.hostname}`), even when the Host header sent carries one.
   */
  readonly host: string;
  /** CanonicalURI. Default "/". */
  readonly path?: string;
  /** CanonicalQueryString; empty for POST. Default "". */
  readonly query?: string;
  /** Service in the credential scope; default the host's first label ("vms"). */
  readonly service?: string;
  /** Exactly the Content-Type header that is sent. */
  readonly contentType: string;
  /** Exactly the body bytes that are sent. */
  readonly payload: string | Buffer;
  /** Unix seconds, also sent as X-TC-Timestamp. */
  readonly timestampSec: number;
  readonly secretId: string;
  readonly secretKey: string;
  /**
   * Headers signed besides content-type and host, e.g. `{"x-tc-action": "describeinstances"}`.
   * Names and values are lower-cased and trimmed, as the doc prescribes.
   */
  readonly extraSignedHeaders?: Readonly<Record<string, string>>;
}

/** The Authorization value and every intermediate, for tests and debugging. */
export interface Tc3Signature {
  readonly authorization: string;
  readonly signature: string;
  readonly signedHeaders: string;
  readonly credentialScope: string;
  /** UTC date of the timestamp, YYYY-MM-DD. */
  readonly date: string;
  readonly service: string;
  readonly hashedRequestPayload: string;
  readonly canonicalRequest: string;
  readonly hashedCanonicalRequest: string;
  readonly stringToSign: string;
}

/** Lower-case hex SHA-256 of the exact bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/**
 * The credential-scope date: the UTC date, never local time, so a request at 00:30
 * Beijing time (UTC+8) on the 26th uses the 25th.
 */
export function tc3Date(timestampSec: number): string {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new RangeError("TC3 timestamp must be a non-negative integer number of seconds");
  }
  return new Date(timestampSec * 1000).toISOString().slice(0, 10);
}

/** "vms.tencentcloudapi.com" → "vms". */
export function serviceForHost(host: string): string {
  return host.split(".")[0] ?? host;
}

/** The canonical request of step 1 and the SignedHeaders list it ends up naming. */
export function tc3CanonicalRequest(input: Tc3SignInput): { canonicalRequest: string; signedHeaders: string } {
  const headers = new Map<string, string>([
    ["content-type", input.contentType.trim().toLowerCase()],
    ["host", input.host.trim().toLowerCase()],
  ]);
  for (const [name, value] of Object.entries(input.extraSignedHeaders ?? {})) {
    headers.set(name.trim().toLowerCase(), value.trim().toLowerCase());
  }
  const names = [...headers.keys()].sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers.get(name)}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    input.method ?? "POST",
    input.path ?? "/",
    input.query ?? "",
    canonicalHeaders,
    signedHeaders,
    sha256Hex(input.payload),
  ].join("\n");
  return { canonicalRequest, signedHeaders };
}

/** Signs one request: steps 1 to 4 of the TC3-HMAC-SHA256 procedure. */
export function signTc3(input: Tc3SignInput): Tc3Signature {
  const date = tc3Date(input.timestampSec);
  const service = input.service ?? serviceForHost(input.host);
  const credentialScope = `${date}/${service}/tc3_request`;
  const { canonicalRequest, signedHeaders } = tc3CanonicalRequest(input);
  const hashedCanonicalRequest = sha256Hex(canonicalRequest);
  const stringToSign = [TC3_ALGORITHM, String(input.timestampSec), credentialScope, hashedCanonicalRequest].join("\n");

  const kDate = hmac(`TC3${input.secretKey}`, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, "tc3_request");
  const signature = createHmac("sha256", kSigning).update(stringToSign, "utf8").digest("hex");

  return {
    authorization: `${TC3_ALGORITHM} Credential=${input.secretId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signature,
    signedHeaders,
    credentialScope,
    date,
    service,
    hashedRequestPayload: sha256Hex(input.payload),
    canonicalRequest,
    hashedCanonicalRequest,
    stringToSign,
  };
}
