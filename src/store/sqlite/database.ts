import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { applyMigrations } from "./migrations.js";

export interface SqliteDatabaseOptions {
  /** A file path (parent directories are created), or ":memory:" for tests. */
  readonly path: string;
}

function isMemory(file: string): boolean {
  return file === ":memory:" || file === "";
}

function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith("SQLITE_BUSY");
}

/**
 * Opens the database with the durability settings the store relies on, migrated, and
 * owned by this process until it is closed.
 *
 * Ownership: better-sqlite3 is synchronous, so waiting for a lock held by another
 * process would stop the whole event loop (health checks included) for as long as the
 * wait lasts. So nothing waits (busy_timeout 0), and nobody else gets a lock to wait
 * for: EXCLUSIVE locking mode keeps the lock taken at open until close, and a second
 * process (another voicecode, the sqlite3 shell) is refused at once. The lock is a
 * POSIX file lock, released by the kernel when the process dies, even by SIGKILL, so a
 * crash never blocks the restart.
 */
export function openDatabase(options: SqliteDatabaseOptions): Database.Database {
  const memory = isMemory(options.path);
  if (!memory) {
    fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  }
  // timeout 0: better-sqlite3 otherwise sets a 5 s busy timeout.
  const db = new Database(options.path, { timeout: 0 });
  try {
    if (!memory) {
      // Before WAL is first used: in EXCLUSIVE mode WAL keeps its index in our memory
      // instead of a shared -shm file, which only makes sense for one process anyway.
      db.pragma("locking_mode = EXCLUSIVE");
      // WAL: a crash mid-commit cannot corrupt the file, and commits append.
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new Error(`sqlite: could not enable WAL (got ${String(mode)})`);
    }
    // FULL: providers are acknowledged only after our commit, so a commit must survive
    // power loss; NORMAL in WAL mode may lose the last transactions.
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    // Its IMMEDIATE transaction takes the write lock, which EXCLUSIVE mode then keeps.
    applyMigrations(db);
    return db;
  } catch (err) {
    db.close();
    if (isBusy(err)) {
      throw new Error(
        `sqlite: ${path.resolve(options.path)} is in use by another process ` +
          "(another voicecode on the same VOICECODE_DB_PATH, or a program holding it open); " +
          "one process owns the file: stop the other one, or give this one its own file",
      );
    }
    throw err;
  }
}
