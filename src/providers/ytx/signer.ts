/**
 * ytx request authentication, exactly as the console page documents it: one timestamp
 * (yyyyMMddHHmmss, see time.ts for the zone) feeds both
 *
 *   Sign          = MD5(accountSID + authToken + timestamp), 32 hex digits, in the URL
 *   Authorization = Base64(accountSID + "|" + timestamp), a header
 *
 * The page says the Sign's case does not matter ("无论大小写"); we send uppercase like
 * the seed's examples and the official .NET demo.
 */
import { createHash } from "node:crypto";
import { formatBeijingTimestamp } from "./time.js";

export interface YtxCredentials {
  readonly accountSid: string;
  readonly authToken: string;
}

export interface YtxSignature {
  readonly timestamp: string;
  readonly sign: string;
  readonly authorization: string;
}

/** Sign = uppercase hex MD5(accountSID + authToken + timestamp). */
export function ytxSign(accountSid: string, authToken: string, timestamp: string): string {
  return createHash("md5")
    .update(accountSid + authToken + timestamp, "utf8")
    .digest("hex")
    .toUpperCase();
}

/** Authorization = Base64(accountSID + "|" + timestamp). */
export function ytxAuthorization(accountSid: string, timestamp: string): string {
  return Buffer.from(`${accountSid}|${timestamp}`, "utf8").toString("base64");
}

/** Both values for one request made at `nowMs`, sharing the one timestamp as required. */
export function signYtxRequest(credentials: YtxCredentials, nowMs: number): YtxSignature {
  const timestamp = formatBeijingTimestamp(nowMs);
  return {
    timestamp,
    sign: ytxSign(credentials.accountSid, credentials.authToken, timestamp),
    authorization: ytxAuthorization(credentials.accountSid, timestamp),
  };
}
