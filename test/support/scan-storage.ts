/**
 * Looks for secrets in everything a store keeps: every column of every table (SQLite:
 * every table in sqlite_master; PostgreSQL: every base table outside the system schemas)
 * and, for SQLite, the raw bytes of the database, WAL and shared-memory files (deleted
 * rows and free pages keep old text until overwritten). A secret counts as leaked when a
 * value holds it in clear, or an unkeyed digest of it (sha256, sha1, md5; hex in either
 * case, base64, base64url), which a dictionary over a small space reverses at once.
 *
 * Reusable: pass every plaintext the test sent that must not be kept (phone numbers,
 * codes, fingerprint inputs, API keys...).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import Database from "better-sqlite3";
import pg from "pg";

export interface StoredValue {
  readonly table: string;
  readonly column: string;
  readonly value: string;
}

/** What must not be kept. `phones` are E.164; each `plaintexts` entry is searched as is. */
export interface SecretsToFind {
  readonly phones?: readonly string[];
  /** Verification codes: searched as a standalone token (not inside a longer word). */
  readonly codes?: readonly string[];
  /** Any other plaintext (a fingerprint's input, an API key), by label. */
  readonly plaintexts?: Readonly<Record<string, string>>;
}

interface Needle {
  readonly label: string;
  matches(value: string): boolean;
}

const DIGESTS = ["sha256", "sha1", "md5"] as const;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every plaintext form and every unkeyed digest of it that must not appear anywhere. */
export function needlesFor(secrets: SecretsToFind): Needle[] {
  const needles: Needle[] = [];
  const plain: Array<[string, string]> = [];
  for (const phone of secrets.phones ?? []) {
    const digits = phone.replace(/^\+/, "");
    plain.push([`phone ${phone}`, phone], [`phone ${phone} without +`, digits]);
    // The national number (without the country code) is still the full number: 11 digits
    // for China. A substring check on the digits covers "+86...", "86..." and "0086...".
    const national = digits.replace(/^86/, "");
    needles.push({ label: `phone ${phone} (national ${national})`, matches: (v) => v.includes(national) });
  }
  for (const code of secrets.codes ?? []) {
    plain.push([`code ${code}`, code]);
    const standalone = new RegExp(`(?<![0-9A-Za-z])${escapeRegExp(code)}(?![0-9A-Za-z])`);
    needles.push({ label: `code ${code} as a standalone value`, matches: (v) => standalone.test(v) });
  }
  for (const [label, text] of Object.entries(secrets.plaintexts ?? {})) {
    plain.push([label, text]);
    needles.push({ label: `${label} in clear`, matches: (v) => v.includes(text) });
  }
  for (const [label, text] of plain) {
    for (const algorithm of DIGESTS) {
      const digest = createHash(algorithm).update(text, "utf8").digest();
      const hex = digest.toString("hex");
      const b64 = digest.toString("base64").replace(/=+$/, "");
      const b64url = digest.toString("base64url");
      needles.push({
        label: `${algorithm}(${label})`,
        matches: (v) => v.toLowerCase().includes(hex) || v.includes(b64) || v.includes(b64url),
      });
    }
  }
  return needles;
}

/** "table.column: what" for every value holding a secret; empty when nothing leaked. */
export function findLeaks(values: readonly StoredValue[], secrets: SecretsToFind): string[] {
  const needles = needlesFor(secrets);
  const leaks: string[] = [];
  for (const { table, column, value } of values) {
    for (const needle of needles) {
      if (needle.matches(value)) leaks.push(`${table}.${column}: ${needle.label}`);
    }
  }
  return leaks;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Buffer.isBuffer(value)) return `${value.toString("hex")} ${value.toString("latin1")}`;
  return String(value);
}

/** Every value of every column of every table of an SQLite file (opened read-only). */
export function dumpSqlite(file: string): StoredValue[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((t) => t.name);
    const values: StoredValue[] = [];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM ${quoteIdent(table)}`).all() as Record<string, unknown>[]) {
        for (const [column, value] of Object.entries(row)) values.push({ table, column, value: asText(value) });
      }
    }
    return values;
  } finally {
    db.close();
  }
}

/**
 * The raw bytes of an SQLite database and its companion files, as one value per file:
 * catches what a deleted row or a free page still holds.
 */
export function rawSqliteFiles(file: string): StoredValue[] {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
    .filter((f) => fs.existsSync(f))
    .map((f) => ({ table: `(file ${f})`, column: "(bytes)", value: fs.readFileSync(f).toString("latin1") }));
}

/** Every value of every column of every base table of a PostgreSQL database, as text. */
export async function dumpPostgres(url: string): Promise<StoredValue[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const { rows: columns } = await client.query<{ schema: string; table: string; column: string }>(
      `SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column
       FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
       WHERE t.table_type = 'BASE TABLE'
         AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1, 2, c.ordinal_position`,
    );
    const tables = new Map<string, { schema: string; table: string; columns: string[] }>();
    for (const c of columns) {
      const key = `${c.schema}.${c.table}`;
      const entry = tables.get(key) ?? { schema: c.schema, table: c.table, columns: [] };
      entry.columns.push(c.column);
      tables.set(key, entry);
    }
    const values: StoredValue[] = [];
    for (const [name, { schema, table, columns: cols }] of tables) {
      const select = cols.map((c, i) => `${quoteIdent(c)}::text AS c${i}`).join(", ");
      const { rows } = await client.query<Record<string, string | null>>(
        `SELECT ${select} FROM ${quoteIdent(schema)}.${quoteIdent(table)}`,
      );
      for (const row of rows) {
        cols.forEach((column, i) => {
          values.push({ table: name, column, value: row[`c${i}`] ?? "" });
        });
      }
    }
    return values;
  } finally {
    await client.end();
  }
}

/** The input of the pre-keyring request fingerprint (src/core/send.ts before the keyring). */
export function legacyFingerprintInput(request: {
  readonly phone: string;
  readonly code: string;
  readonly playTimes: number;
  readonly provider: string;
  readonly clientReference: string;
  readonly metadata: Readonly<Record<string, string>>;
}): string {
  const sorted = Object.entries(request.metadata).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([
    request.phone,
    request.code,
    request.playTimes,
    request.provider,
    request.clientReference,
    sorted,
  ]);
}
