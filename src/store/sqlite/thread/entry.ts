/**
 * The SQLite store's thread: opens the store (src/store/sqlite/sqlite-store.ts, group
 * writer and all) and runs the server thread's calls in the order they arrive. Only
 * spawn.ts starts it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createKeyring } from "../../../secrets/keyring.js";
import type { Store } from "../../store.js";
import { createSqliteStore } from "../sqlite-store.js";
import { type CallMessage, type ReplyMessage, type StartMessage, type ThreadInit, toWire } from "./protocol.js";

const port = parentPort;
if (port === null) throw new Error("sqlite store thread: must run as a worker thread");
const init = workerData as ThreadInit;

let store: Store | undefined;
try {
  store = createSqliteStore({
    path: init.path,
    keyring: createKeyring(Buffer.from(init.secret)),
    groupCommit: { maxItems: init.maxItems },
  });
} catch (err) {
  // Nothing listens on the port after this: the thread ends.
  port.postMessage({ start: "failed", error: toWire(err) } satisfies StartMessage);
}

if (store !== undefined) {
  const opened = store;
  const reply = (message: ReplyMessage): void => {
    try {
      port.postMessage(message);
    } catch (err) {
      // A value that cannot be cloned is a bug in the store; the caller must still hear of it.
      port.postMessage({ id: message.id, ok: false, error: toWire(err) } satisfies ReplyMessage);
    }
  };
  // Calls not yet answered: close waits for them, so no answer is lost with the port.
  const inFlight = new Set<Promise<unknown>>();
  port.on("message", (message: CallMessage) => {
    // Own methods only: not toString, constructor and the like.
    const method = Object.hasOwn(opened, message.method)
      ? (opened[message.method] as (...args: readonly unknown[]) => Promise<unknown>)
      : undefined;
    const run = async (): Promise<unknown> => {
      if (typeof method !== "function") throw new Error(`sqlite store thread: no method ${String(message.method)}`);
      return method.apply(opened, [...message.args]);
    };
    const closing = message.method === "close";
    const done = (closing ? Promise.allSettled([...inFlight]).then(run) : run()).then(
      (value) => {
        reply({ id: message.id, ok: true, value });
        // Closed: the port goes too, and with it the thread.
        if (closing) port.close();
      },
      (error: unknown) => reply({ id: message.id, ok: false, error: toWire(error) }),
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  });
  port.postMessage({ start: "ready" } satisfies StartMessage);
}
