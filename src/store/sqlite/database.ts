import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { applyMigrations } from "./migrations.js";

export interface SqliteDatabaseOptions {
  /** A file path (parent directories are created), or ":memory:" for tests. */
  readonly path: string;
}

const BUSY_TIMEOUT_MS = 5_000;

function isMemory(file: string): boolean {
  return file === ":memory:" || file === "";
}

/** Opens the database with the durability settings the store relies on, migrated. */
export function openDatabase(options: SqliteDatabaseOptions): Database.Database {
  if (!isMemory(options.path)) {
    fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  }
  const db = new Database(options.path);
  try {
    // Another process (the CLI, a second replica) may hold the write lock briefly.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!isMemory(options.path)) {
      // WAL: WatchStatus readers never block the webhook writer.
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new Error(`sqlite: could not enable WAL (got ${String(mode)})`);
    }
    // FULL: providers are acknowledged only after our commit, so a commit must survive
    // power loss; NORMAL in WAL mode may lose the last transactions.
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    applyMigrations(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
