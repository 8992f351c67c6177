/**
 * Keyed hashes of the values we must recognise but never keep: request fingerprints,
 * phone numbers counted by the limits, verification codes. Each purpose gets its own key
 * derived from the one server secret (HKDF), so a value hashed for one purpose cannot be
 * matched against another purpose's column, and a stolen database without the secret
 * gives nothing an unkeyed dictionary attack could use.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

/** Purposes are fixed strings: a new purpose is a new key, never a reused one. */
export type KeyPurpose =
  | "request-fingerprint"
  | "phone-number"
  | "verification-code"
  /** A Send kept (encrypted) only while an outcome fallback may still re-place it. */
  | "fallback-request";

/** Version prefix of every keyed hash we store, so a later key scheme can coexist. */
export const KEYED_PREFIX = "k1:";

export interface Keyring {
  /** `k1:` + hex HMAC-SHA256 of `value` under the purpose's key. */
  hash(purpose: KeyPurpose, value: string): string;
  /** AES-256-GCM under the purpose's key: "s1:" + base64url(iv | tag | ciphertext). */
  seal(purpose: KeyPurpose, plaintext: string): string;
  /** The plaintext, or undefined when `sealed` was not made by seal() under this secret. */
  open(purpose: KeyPurpose, sealed: string): string | undefined;
}

const SEALED_PREFIX = "s1:";

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
    seal(purpose, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keyFor(purpose), iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(purpose, sealed) {
      if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
      const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64url");
      if (raw.length < 28) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", keyFor(purpose), raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        return undefined;
      }
    },
  };
}
