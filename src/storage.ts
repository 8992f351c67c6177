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
import { createSqliteStore, openSqliteThread } from "./store/sqlite/index.js";
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

/** The server's keyring, and the secret it derives from (for a store on its own thread). */
export interface StorageSecrets {
  readonly keyring: Keyring;
  readonly secret: Buffer;
}

/**
 * The keyring is the server's: the store keys, when it opens, the request fingerprints
 * written before fingerprints were keyed, and compares Check codes, so it must be the
 * one Send uses.
 *
 * With `sqliteThread`, SQLite is served by a thread of its own (src/store/sqlite/thread):
 * the event loop never waits for a statement or a disk sync, at the price of a message
 * each way per store call (docs/configuration.md says when that pays).
 */
export async function openStorage(
  config: Config,
  logger: Logger,
  secrets: StorageSecrets,
  given?: Store,
): Promise<Storage> {
  const { keyring } = secrets;
  const pg = config.postgres;
  if (pg === undefined) {
    const path = config.dbPath;
    return {
      store:
        given ??
        (config.sqliteThread
          ? await openSqliteThread({
              path,
              secret: secrets.secret,
              onFailure: (err) => {
                // What the same failure on this thread would have done: end the process,
                // so it is restarted. Nothing unacknowledged is lost (providers retry).
                logger.fatal({ err: err.message }, "sqlite store thread stopped; exiting");
                process.exit(70); // EX_SOFTWARE
              },
            })
          : createSqliteStore({ path, keyring })),
      bus: createLocalBus(),
      description: config.sqliteThread && given === undefined ? `${config.dbPath} (own thread)` : config.dbPath,
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
