/** Re-keys request fingerprints stored before they were keyed (see src/store/fingerprints.ts). */
import type Database from "better-sqlite3";
import type { Keyring } from "../../secrets/keyring.js";
import {
  keyLegacyFingerprint,
  LEGACY_FINGERPRINT_BATCH,
  LEGACY_FINGERPRINT_SQL,
} from "../fingerprints.js";

/**
 * Keys every bare digest in one transaction and returns how many rows changed (0 when
 * none is left, which the partial index answers without a scan). Batches bound memory:
 * a keyed row leaves the condition, so each SELECT finds the next ones.
 */
export function keyLegacyFingerprints(db: Database.Database, keyring: Keyring): number {
  const next = db.prepare<[number], { call_id: string; request_hash: string }>(
    `SELECT call_id, request_hash FROM calls INDEXED BY calls_legacy_request_hash
     WHERE ${LEGACY_FINGERPRINT_SQL} LIMIT ?`,
  );
  const update = db.prepare<[string, string]>("UPDATE calls SET request_hash = ? WHERE call_id = ?");
  const run = db.transaction((): number => {
    let keyed = 0;
    for (;;) {
      const rows = next.all(LEGACY_FINGERPRINT_BATCH);
      if (rows.length === 0) return keyed;
      for (const row of rows) update.run(keyLegacyFingerprint(keyring, row.request_hash), row.call_id);
      keyed += rows.length;
    }
  });
  return run.immediate();
}
