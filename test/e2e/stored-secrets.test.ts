/**
 * After real Sends through the real server (accepted and completed, declined, refused,
 * replayed, conflicting), nothing either store keeps holds a full number, a code, or an
 * unkeyed digest of them or of the old fingerprint's input: every column of every table,
 * and for SQLite the raw bytes of its files.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { failureOf, grpcJsClient, type SendInit } from "../support/clients.js";
import { createTestDatabase, describePostgres } from "../support/postgres.js";
import {
  dumpPostgres,
  dumpSqlite,
  findLeaks,
  legacyFingerprintInput,
  rawSqliteFiles,
  type SecretsToFind,
  type StoredValue,
} from "../support/scan-storage.js";
import { type Carrier, createCarrier, startTestServer, type TestServer } from "../support/test-server.js";

const dir = mkdtempSync(join(tmpdir(), "voicecode-stored-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const metadata = { purpose: "login", tenant: "t1" };
/** Completed call (default scenario); replayed; reused with another code. */
const completed = {
  phoneNumber: "+8613911223344",
  code: "583920",
  playTimes: 2,
  clientReference: "login-42",
  idempotencyKey: "idem-42",
  metadata,
};
const conflicting = { ...completed, code: "583921" };
/** Declined by the callee (sandbox scenario 0005) and refused by the API (0007). */
const declined = { phoneNumber: "+8613911220005", code: "771046", clientReference: "login-43", metadata };
const refused = { phoneNumber: "+8613911220007", code: "90817", clientReference: "login-44", metadata };

const sends: readonly SendInit[] = [completed, conflicting, declined, refused];
const secrets: SecretsToFind = {
  phones: sends.map((s) => s.phoneNumber ?? ""),
  codes: sends.map((s) => s.code ?? ""),
  plaintexts: Object.fromEntries(
    sends.map((s, i) => [
      `fingerprint input ${i}`,
      legacyFingerprintInput({
        phone: s.phoneNumber ?? "",
        code: s.code ?? "",
        playTimes: s.playTimes ?? 2,
        provider: "sandbox",
        clientReference: s.clientReference ?? "",
        metadata: { ...s.metadata },
      }),
    ]),
  ),
};

/** Every kind of Send, with the carrier's callbacks delivered to the end. */
async function exercise(server: TestServer, carrier: Carrier): Promise<void> {
  const client = grpcJsClient(server.grpcUrl);
  try {
    const first = await client.send(completed);
    expect((await client.send(completed)).idempotentReplay).toBe(true);
    expect((await failureOf(client.send(conflicting))).code).toBe("already_exists");
    await client.send(declined);
    await client.send(refused);
    await carrier.scheduler.runAll();
    expect((await client.getCall(first.callId)).events.length).toBeGreaterThan(3);
  } finally {
    client.close();
  }
}

function expectScanned(values: readonly StoredValue[]): void {
  // The scan saw real data, not an empty or unreadable database.
  const tables = new Set(values.map((v) => v.table.replace(/^public\./, "")));
  for (const table of ["calls", "events", "inbound"]) expect(tables).toContain(table);
}

describe("stored secrets: SQLite", () => {
  it("no table, column or byte of the files holds a number, a code or an unkeyed digest of them", async () => {
    const file = join(dir, "voicecode.db");
    const carrier = createCarrier();
    const server = await startTestServer(carrier, { VOICECODE_DB_PATH: file });
    try {
      await exercise(server, carrier);
    } finally {
      await server.stop();
      carrier.network.close();
    }
    const values = dumpSqlite(file);
    expectScanned(values);
    expect(findLeaks([...values, ...rawSqliteFiles(file)], secrets)).toEqual([]);
  });
});

describePostgres("stored secrets: PostgreSQL", () => {
  it("no column of any table holds a number, a code or an unkeyed digest of them", async () => {
    const db = await createTestDatabase();
    try {
      const carrier = createCarrier();
      const server = await startTestServer(carrier, {
        DATABASE_URL: db.url,
        VOICECODE_SERVER_SECRET: "stored-secrets-test-secret-0123456789abcdef",
      });
      try {
        await exercise(server, carrier);
      } finally {
        await server.stop();
        carrier.network.close();
      }
      const values = await dumpPostgres(db.url);
      expectScanned(values);
      expect(findLeaks(values, secrets)).toEqual([]);
    } finally {
      await db.drop();
    }
  });
});
