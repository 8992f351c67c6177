import pg from "pg";
import { afterAll } from "vitest";
import { LEGACY_FINGERPRINT_BATCH } from "../../src/store/fingerprints.js";
import { applyMigrations, createPostgresStore, MIGRATIONS } from "../../src/store/postgres/index.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../support/postgres.js";
import { describeLegacyFingerprints, type LegacyEngine } from "./legacy-fingerprints.js";

/** Schema steps of the last build before request fingerprints were keyed. */
const PRE_KEYRING_STEPS = 1;

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

async function withPool<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

describePostgres("PostgreSQL", () => {
  describeLegacyFingerprints(
    "postgres",
    (): LegacyEngine => {
      let url = "";
      return {
        batchSize: LEGACY_FINGERPRINT_BATCH,
        async createOld() {
          const db = await createTestDatabase();
          databases.push(db);
          url = db.url;
          await withPool(url, (pool) => applyMigrations(pool, MIGRATIONS.slice(0, PRE_KEYRING_STEPS)));
        },
        async writeRaw(rows) {
          await withPool(url, (pool) =>
            pool.query(
              `INSERT INTO calls (call_id, provider, phone_masked, play_times, client_reference,
                 idempotency_key, request_hash, metadata, state, created_at_ms, updated_at_ms)
               SELECT r.call_id, r.provider, '+86137****2222', r.play_times, r.client_reference,
                 r.idempotency_key, r.request_hash, r.metadata::jsonb, r.state, 1, 1
               FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
                 AS r(call_id, provider, play_times, client_reference, idempotency_key, request_hash, metadata, state)`,
              [
                rows.map((r) => r.callId),
                rows.map((r) => r.provider),
                rows.map((r) => r.playTimes),
                rows.map((r) => r.clientReference),
                rows.map((r) => r.idempotencyKey),
                rows.map((r) => r.requestHash),
                rows.map((r) => JSON.stringify(r.metadata)),
                rows.map((r) => r.state),
              ],
            ),
          );
        },
        open: (keyring) => createPostgresStore({ connectionString: url, poolSize: 2, keyring }),
        async readHashes(ids) {
          const { rows } = await withPool(url, (pool) =>
            pool.query<{ call_id: string; request_hash: string }>(
              "SELECT call_id, request_hash FROM calls WHERE call_id = ANY($1::text[])",
              [ids],
            ),
          );
          const found = new Map(rows.map((r) => [r.call_id, r.request_hash]));
          return new Map(ids.map((id) => [id, found.get(id) ?? "(missing)"]));
        },
      };
    },
    { concurrentWriters: true },
  );
});
