/**
 * ytx request authentication, exactly as the console page documents it: one timestamp
 * (yyyyMMddHHmmss, see time.ts for the zone) feeds both
 *
 *   Sign          = MD5(accountSID + authToken + timestamp), 32 hex digits, in the URL
 *   Authorization = Base64(accountSID + "|" + timestamp), a header
 *
 * The page says the Sign's case does not matter ("无论大小写"); we send uppercase like
 * the seed's examples and the official .NET demo.
 *
 * DO NOT "FIX" THE "|" TO ":" FROM THE SEED'S EXAMPLE. The console page (seed 001) is
 * self-contradictory: its parameter table says Base64(账户Id + "|" + 时间戳), but the
 * Authorization in its 报文示例 decodes to "ff8080813c37da53013c804f8072007c:2013020115…"
 * with ":". That example is not ytx's: it is byte for byte the example of cloopen's
 * (容联·云通讯, a different vendor) 2013-12-26 REST docs, copied with its path
 * "abcdefghijklmnopqrstuvwxyz012345" and sig "C1F20E7A9733CE94F680C70A1DBABCDE"; cloopen's
 * scheme does use ":" (shared/providers.md 3.4). Evidence for "|": the table itself, and
 * a public integration that calls production api.ytx.net, github.com/fanshuai/kubrick
 * (commit b7ed6588), server/voice/ytxz/action.py, do_action(), which sends
 * Base64(ACCOUNT_SID + "|" + yyyyMMddHHmmss). docs/providers.md (ytx) records the same;
 * test/providers/ytx/signer.test.ts pins it.
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

/** Authorization = Base64(accountSID + "|" + timestamp); "|", not the seed example's ":" (see above). */
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
