/** Re-keys request fingerprints stored before they were keyed (see src/store/fingerprints.ts). */
import type { Keyring } from "../../secrets/keyring.js";
import {
  keyLegacyFingerprint,
  LEGACY_FINGERPRINT_BATCH,
  LEGACY_FINGERPRINT_SQL,
} from "../fingerprints.js";
import type { Db } from "./queries.js";

/**
 * Keys every bare digest on `client`, inside the caller's migration transaction (so under
 * the migration lock: one replica does it, the next ones find nothing), and returns how
 * many rows changed. The partial index calls_legacy_request_hash makes the empty case
 * one index probe. Each batch is one SELECT and one UPDATE; a keyed row leaves the
 * condition, so the next SELECT finds the next rows, including any an old replica is
 * still writing during a rolling upgrade (READ COMMITTED sees its commits).
 */
export async function keyLegacyFingerprints(client: Db, keyring: Keyring): Promise<number> {
  let keyed = 0;
  for (;;) {
    const { rows } = await client.query<{ call_id: string; request_hash: string }>(
      `SELECT call_id, request_hash FROM calls WHERE ${LEGACY_FINGERPRINT_SQL} LIMIT $1`,
      [LEGACY_FINGERPRINT_BATCH],
    );
    if (rows.length === 0) return keyed;
    await client.query(
      `UPDATE calls SET request_hash = v.request_hash
       FROM unnest($1::text[], $2::text[]) AS v (call_id, request_hash)
       WHERE calls.call_id = v.call_id`,
      [rows.map((r) => r.call_id), rows.map((r) => keyLegacyFingerprint(keyring, r.request_hash))],
    );
    keyed += rows.length;
  }
}
