/**
 * The URL Huawei pushes to, sent Base64-encoded in each request's statusUrl and feeUrl.
 * Both carry the same URL (our route is /webhooks/huawei/<token>; the push body says
 * which kind it is). statusUrl is documented as String(1-128), and that limit applies
 * to the Base64 text: a URL longer than 96 bytes does not fit.
 */

export const MAX_ENCODED_CALLBACK_URL = 128;

export function callbackUrl(webhookPublicUrl: string, token: string): string {
  return `${webhookPublicUrl.replace(/\/+$/, "")}/webhooks/huawei/${token}`;
}

export function encodeCallbackUrl(url: string): string {
  return Buffer.from(url, "utf8").toString("base64");
}

/** A problem with the URL's length, worded for the operator (without the secret token), or undefined. */
export function callbackUrlProblem(webhookPublicUrl: string, token: string): string | undefined {
  const encoded = encodeCallbackUrl(callbackUrl(webhookPublicUrl, token)).length;
  if (encoded <= MAX_ENCODED_CALLBACK_URL) return undefined;
  return (
    `the Huawei callback URL (VOICECODE_WEBHOOK_PUBLIC_URL + /webhooks/huawei/ + the token) is ${encoded} ` +
    `characters once Base64-encoded; Huawei's statusUrl takes at most ${MAX_ENCODED_CALLBACK_URL} ` +
    "(a URL of at most 96 bytes): shorten the public URL or the token"
  );
}
