import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll } from "vitest";
import { LEGACY_FINGERPRINT_BATCH } from "../../src/store/fingerprints.js";
import { applyMigrations, createSqliteStore, MIGRATIONS } from "../../src/store/sqlite/index.js";
import { describeLegacyFingerprints, type LegacyEngine } from "./legacy-fingerprints.js";

/** Schema steps of the last build before request fingerprints were keyed. */
const PRE_KEYRING_STEPS = 2;

const root = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-legacy-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function withFile<T>(file: string, work: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

describeLegacyFingerprints(
  "sqlite",
  (): LegacyEngine => {
    const file = path.join(fs.mkdtempSync(path.join(root, "db-")), "voicecode.db");
    return {
      batchSize: LEGACY_FINGERPRINT_BATCH,
      async createOld() {
        withFile(file, (db) => {
          db.pragma("journal_mode = WAL");
          applyMigrations(db, MIGRATIONS.slice(0, PRE_KEYRING_STEPS));
        });
      },
      async writeRaw(rows) {
        withFile(file, (db) => {
          const insert = db.prepare(
            `INSERT INTO calls (call_id, provider, phone_masked, play_times, client_reference,
               idempotency_key, request_hash, metadata, state, created_at_ms, updated_at_ms)
             VALUES (?, ?, '+86137****2222', ?, ?, ?, ?, ?, ?, 1, 1)`,
          );
          db.transaction(() => {
            for (const r of rows) {
              insert.run(r.callId, r.provider, r.playTimes, r.clientReference, r.idempotencyKey,
                r.requestHash, JSON.stringify(r.metadata), r.state);
            }
          })();
        });
      },
      open: async (keyring) => createSqliteStore({ path: file, keyring }),
      async readHashes(ids) {
        return withFile(file, (db) => {
          const get = db.prepare<[string], { request_hash: string }>("SELECT request_hash FROM calls WHERE call_id = ?");
          return new Map(ids.map((id) => [id, get.get(id)?.request_hash ?? "(missing)"]));
        });
      },
    };
  },
  { concurrentWriters: false },
);
