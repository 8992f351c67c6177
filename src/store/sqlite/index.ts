export { createSqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export { applyMigrations, MIGRATIONS } from "./migrations.js";
export { openDatabase } from "./database.js";
export { openSqliteThread, type SqliteThreadOptions } from "./thread/threaded-store.js";
