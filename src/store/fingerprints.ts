/**
 * Request fingerprints written before they were keyed: a bare SHA-256 hex of the request
 * (src/core/send.ts still computes that digest, then keys it). Keying a stored digest
 * gives exactly what Send now computes for the same request, so both engines re-key old
 * rows when they open, and an idempotent retry of a pre-upgrade Send still matches.
 */
import { KEYED_PREFIX, type Keyring } from "../secrets/keyring.js";

/** Rows re-keyed per statement when an upgraded store opens. */
export const LEGACY_FINGERPRINT_BATCH = 500;

/**
 * SQL condition, identical on both engines, for a row that still holds a bare digest.
 * It is also the predicate of the partial index that makes the check at every open cheap
 * (a query uses a partial index only when it repeats the index's condition).
 */
export const LEGACY_FINGERPRINT_SQL = `request_hash <> '' AND substr(request_hash, 1, 3) <> '${KEYED_PREFIX}'`;

export function isLegacyFingerprint(stored: string): boolean {
  return stored !== "" && !stored.startsWith(KEYED_PREFIX);
}

/** What Send now computes for the request whose bare digest is `stored`. */
export function keyLegacyFingerprint(keyring: Keyring, stored: string): string {
  return keyring.hash("request-fingerprint", stored);
}

/**
 * Whether a stored fingerprint is the one of `given` (always keyed). A bare digest can
 * still appear after open on PostgreSQL: a replica of the old build, during a rolling
 * upgrade, writes them until it is replaced (the next start keys them).
 */
export function sameFingerprint(keyring: Keyring, stored: string, given: string): boolean {
  if (stored === given) return true;
  return isLegacyFingerprint(stored) && keyLegacyFingerprint(keyring, stored) === given;
}
