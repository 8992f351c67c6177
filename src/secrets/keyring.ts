/**
 * Keyed hashes of the values we must recognise but never keep: request fingerprints,
 * phone numbers counted by the limits, verification codes. Each purpose gets its own key
 * derived from the one server secret (HKDF), so a value hashed for one purpose cannot be
 * matched against another purpose's column, and a stolen database without the secret
 * gives nothing an unkeyed dictionary attack could use.
 */
import { createHmac, hkdfSync } from "node:crypto";

/** Purposes are fixed strings: a new purpose is a new key, never a reused one. */
export type KeyPurpose = "request-fingerprint" | "phone-number" | "verification-code";

/** Version prefix of every keyed hash we store, so a later key scheme can coexist. */
export const KEYED_PREFIX = "k1:";

export interface Keyring {
  /** `k1:` + hex HMAC-SHA256 of `value` under the purpose's key. */
  hash(purpose: KeyPurpose, value: string): string;
}

/** Minimum secret length in bytes; 32 is the HMAC-SHA256 key size. */
export const MIN_SECRET_BYTES = 32;

export function createKeyring(secret: Buffer): Keyring {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(`server secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const keys = new Map<KeyPurpose, Buffer>();
  const keyFor = (purpose: KeyPurpose): Buffer => {
    let key = keys.get(purpose);
    if (key === undefined) {
      key = Buffer.from(hkdfSync("sha256", secret, "voicecode", `voicecode/${purpose}`, 32));
      keys.set(purpose, key);
    }
    return key;
  };
  return {
    hash(purpose, value) {
      return KEYED_PREFIX + createHmac("sha256", keyFor(purpose)).update(value, "utf8").digest("hex");
    },
  };
}
