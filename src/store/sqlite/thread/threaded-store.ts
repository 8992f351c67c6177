/**
 * The SQLite store on a thread of its own. better-sqlite3 is synchronous: in the server's
 * thread every statement, and every group's COMMIT with its disk sync, holds the event
 * loop, so HTTP, gRPC and the watches wait behind the writes. Here the store (the same
 * one: src/store/sqlite/sqlite-store.ts) runs on a worker thread that owns the database
 * connection, and the server's thread only posts calls and takes answers.
 *
 * Semantics are the in-process store's: the thread starts calls in the order they were
 * made (a read is answered at once, a write after its group's COMMIT), its group writer
 * still commits the writes that queued during one turn together,
 * and a write's promise settles after the commit that holds it. A read made after a write
 * was answered sees that write.
 */
import { once } from "node:events";
import type { Store } from "../../store.js";
import type { Worker } from "node:worker_threads";
import { type CallMessage, fromWire, type ReplyMessage, type StartMessage, type ThreadInit } from "./protocol.js";
import { spawnStoreThread } from "./spawn.js";

export interface SqliteThreadOptions {
  /** A file path (parent directories are created), or ":memory:". */
  readonly path: string;
  /** The server secret: the thread's keyring is derived from it, as the server's is. */
  readonly secret: Uint8Array;
  readonly groupCommit?: { readonly maxItems?: number };
  /**
   * The thread died after it opened (an uncaught error there, or it was killed): every
   * call in flight and every later one fails. Told once; the server exits, as the same
   * error on its own thread would have made it.
   */
  readonly onFailure?: (err: Error) => void;
  /** Starts the thread (tests start a misbehaving one). */
  readonly spawn?: (init: ThreadInit) => Worker;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** Resolves once the thread has opened (migrated, owns) the database; rejects with why not. */
export async function openSqliteThread(options: SqliteThreadOptions): Promise<Store> {
  const worker = (options.spawn ?? spawnStoreThread)({
    path: options.path,
    // An exact copy: a Buffer made from a string is a slice of Node's shared 8 KiB pool,
    // and posting it would copy the whole pool (other strings included) to the thread.
    secret: Uint8Array.from(options.secret),
    maxItems: options.groupCommit?.maxItems,
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      worker.off("message", onStart);
      worker.off("error", fail);
      worker.off("exit", onExit);
      reject(err);
    };
    const onExit = (code: number) => fail(new Error(`sqlite store thread exited before opening (code ${code})`));
    const onStart = (message: StartMessage) => {
      if (message.start === "failed") {
        fail(fromWire(message.error));
        return;
      }
      worker.off("message", onStart);
      worker.off("error", fail);
      worker.off("exit", onExit);
      resolve();
    };
    worker.on("message", onStart);
    worker.on("error", fail);
    worker.on("exit", onExit);
  });

  const pending = new Map<number, Pending>();
  // Like an in-process store, an idle thread does not keep the process alive (an embedder
  // that fails to start after opening the store can still exit): referenced only while a
  // call waits for its answer.
  worker.unref();
  let nextId = 1;
  // Set once the thread is gone: every call in flight and every later one fails with it.
  let stopped: Error | undefined;
  let closing: Promise<void> | undefined;
  const stop = (err: Error, failed: boolean) => {
    if (stopped !== undefined) return;
    stopped = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (failed) options.onFailure?.(err);
  };
  worker.on("message", (message: ReplyMessage) => {
    const p = pending.get(message.id);
    if (p === undefined) return;
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (message.ok) p.resolve(message.value);
    else p.reject(fromWire(message.error));
  });
  // While closing, an error reaches close()'s caller (the shutdown), not onFailure.
  worker.on("error", (err) =>
    stop(new Error(`sqlite store thread failed: ${err.message}`, { cause: err }), closing === undefined),
  );
  // After close it exits by design; any other exit is a failure.
  worker.on("exit", (code) => stop(new Error(`sqlite store thread exited (code ${code})`), closing === undefined));

  /** Typed by the Store method: a forwarding lambda with its arguments out of order does not compile. */
  function call<K extends keyof Store>(method: K, args: Parameters<Store[K]>): ReturnType<Store[K]> {
    return post(method, args) as ReturnType<Store[K]>;
  }

  function post(method: keyof Store, args: readonly unknown[]): Promise<unknown> {
    if (stopped !== undefined) return Promise.reject(stopped);
    return new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ id, method, args } satisfies CallMessage);
      } catch (err) {
        pending.delete(id);
        if (pending.size === 0) worker.unref();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  return {
    createCall: (c) => call("createCall", [c]),
    recordSendResult: (callId, result, nowMs, o) => call("recordSendResult", [callId, result, nowMs, o]),
    recordAmbiguous: (callId, attempt, detail, nowMs) => call("recordAmbiguous", [callId, attempt, detail, nowMs]),
    listAttempts: (callId) => call("listAttempts", [callId]),
    dueFallbacks: (limit, decidedByMs) => call("dueFallbacks", [limit, decidedByMs]),
    loadFallbackRequest: (callId) => call("loadFallbackRequest", [callId]),
    startFallback: (callId, attempt, provider, nowMs, o) =>
      call("startFallback", [callId, attempt, provider, nowMs, o]),
    postponeFallback: (callId, attempt, dueAtMs) => call("postponeFallback", [callId, attempt, dueAtMs]),
    ingest: (provider, events, nowMs) => call("ingest", [provider, events, nowMs]),
    getCall: (callId) => call("getCall", [callId]),
    listEvents: (filter, afterSequence, limit) => call("listEvents", [filter, afterSequence, limit]),
    expireCalls: (request) => call("expireCalls", [request]),
    listOpenCalls: (provider, afterCallId, limit) => call("listOpenCalls", [provider, afterCallId, limit]),
    prune: (request) => call("prune", [request]),
    checkVerification: (request) => call("checkVerification", [request]),
    close() {
      closing ??= (async () => {
        if (stopped !== undefined) return;
        // Observed at once: an error while closing rejects it, and close's call reports it.
        const exited = once(worker, "exit").catch(() => undefined);
        // Everything posted before this is answered first: the thread takes calls in order.
        await call("close", []);
        await exited;
      })();
      return closing;
    },
  };
}
