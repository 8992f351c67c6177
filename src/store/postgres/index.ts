export {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from "./postgres-store.js";
export { applyMigrations, MIGRATIONS } from "./migrations.js";
export { EVENTS_CHANNEL } from "./constants.js";
