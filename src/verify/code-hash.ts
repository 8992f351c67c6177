/**
 * The only form in which a verification code is kept: HMAC-SHA256 under the keyring's
 * "verification-code" key, bound to the call id so the same code sent twice hashes to two
 * unrelated values. A Check hashes the typed code the same way and compares the two
 * hashes with timingSafeEqual, so the time taken says nothing about how close it was.
 */
import { timingSafeEqual } from "node:crypto";
import type { Keyring } from "../secrets/keyring.js";

export function codeHash(keyring: Keyring, callId: string, code: string): string {
  // NUL cannot occur in a call id or a code: the pair is unambiguous.
  return keyring.hash("verification-code", `${callId}\u0000${code}`);
}

export function codeMatches(keyring: Keyring, callId: string, typed: string, stored: string): boolean {
  const expected = Buffer.from(stored, "utf8");
  const actual = Buffer.from(codeHash(keyring, callId, typed), "utf8");
  // Every stored hash has one length ("k1:" + 64 hex); an emptied one ("") never matches.
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(expected, actual);
}
