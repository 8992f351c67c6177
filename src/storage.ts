/**
 * Picks the storage engine and the bus from the config: SQLite with the in-process bus
 * (one replica), or PostgreSQL with the LISTEN/NOTIFY bus (any number of replicas).
 */
import type { Logger } from "pino";
import { type Bus, createLocalBus } from "./bus/bus.js";
import { createPostgresBus } from "./bus/postgres-bus.js";
import type { Config } from "./config.js";
import type { Keyring } from "./secrets/keyring.js";
import { createPostgresStore } from "./store/postgres/index.js";
import { createSqliteStore } from "./store/sqlite/index.js";
import type { Store } from "./store/store.js";

export interface Storage {
  readonly store: Store;
  readonly bus: Bus;
  /** For logs: the engine and where, never a password. */
  readonly description: string;
  /** Stops the bus; the store is closed by its owner. */
  closeBus(): Promise<void>;
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/**
 * `keyring` is the server's: the store keys, when it opens, the request fingerprints
 * written before fingerprints were keyed, so it must be the one Send uses.
 */
export async function openStorage(
  config: Config,
  logger: Logger,
  keyring: Keyring,
  given?: Store,
): Promise<Storage> {
  const pg = config.postgres;
  if (pg === undefined) {
    return {
      store: given ?? createSqliteStore({ path: config.dbPath, keyring }),
      bus: createLocalBus(),
      description: config.dbPath,
      closeBus: async () => undefined,
    };
  }
  const log = logger.child({ component: "postgres" });
  const store =
    given ??
    (await createPostgresStore({
      connectionString: pg.url,
      poolSize: pg.poolSize,
      keyring,
      onError: (err) => log.warn({ err: err.message }, "idle database connection failed"),
    }));
  const bus = createPostgresBus({
    connectionString: pg.url,
    catchUpMs: pg.catchUpMs,
    onError: (err, during) => log.warn({ err: err.message, during }, "event bus connection trouble"),
  });
  try {
    await bus.start();
  } catch (err) {
    if (given === undefined) await store.close();
    throw err;
  }
  return { store, bus, description: redactUrl(pg.url), closeBus: () => bus.close() };
}
