/**
 * Huawei Voice Call's AK/SK request authentication (the "X-AKSK" scheme of the Voice
 * Call API, not the X-WSSE scheme of Huawei's SMS service):
 *
 *   Authorization: AKSK realm="SDP",profile="UsernameToken",type="Appkey"
 *   X-AKSK: UsernameToken Username="<APP_Key>",PasswordDigest="<digest>",Nonce="<nonce>",Created="<created>"
 *
 * with digest = Base64(HMAC-SHA256(key = APP_Secret, message = Nonce + Created)) and
 * Created = yyyy-MM-ddTHH:mm:ssZ in true UTC. Everything here is a pure function of its
 * inputs (the nonce and the time are arguments) so the published vector pins it.
 */
import { createHmac, randomBytes } from "node:crypto";

/** The fixed Authorization header value; the platform checks each attribute. */
export const HUAWEI_AUTHORIZATION = 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"';

export interface AkskInput {
  readonly appKey: string;
  readonly appSecret: string;
  /** 1-128 letters and digits. */
  readonly nonce: string;
  /** Already formatted, see formatCreated. */
  readonly created: string;
}

/** Base64(HMAC-SHA256(appSecret, nonce + created)), no separator between the two. */
export function passwordDigest(appSecret: string, nonce: string, created: string): string {
  return createHmac("sha256", appSecret).update(nonce + created, "utf8").digest("base64");
}

/** yyyy-MM-ddTHH:mm:ssZ in UTC: an ISO instant without the milliseconds. */
export function formatCreated(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** 32 upper-case hex characters, the shape of the documentation's example nonce. */
export function createNonce(): string {
  return randomBytes(16).toString("hex").toUpperCase();
}

/** The two authentication headers of one API request (lower-case names). */
export function akskHeaders(input: AkskInput): { authorization: string; "x-aksk": string } {
  const digest = passwordDigest(input.appSecret, input.nonce, input.created);
  return {
    authorization: HUAWEI_AUTHORIZATION,
    "x-aksk": `UsernameToken Username="${input.appKey}",PasswordDigest="${digest}",Nonce="${input.nonce}",Created="${input.created}"`,
  };
}
