/**
 * What crosses between the server's thread and the SQLite store's thread: store method
 * calls and their answers, as structured clones. Errors are rebuilt on the caller's side,
 * so `instanceof LimitExceeded` holds there as it does for an in-process store.
 */
import { type LimitRule, LimitExceeded, type Store } from "../../store.js";

/** The thread's start: where the database is, and the secret its keyring derives from. */
export interface ThreadInit {
  readonly path: string;
  readonly secret: Uint8Array;
  readonly maxItems: number | undefined;
}

export interface CallMessage {
  readonly id: number;
  readonly method: keyof Store;
  readonly args: readonly unknown[];
}

export type ReplyMessage =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** The thread's first message: the store opened (migrated, owned), or why not. */
export type StartMessage = { readonly start: "ready" } | { readonly start: "failed"; readonly error: WireError };

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly limit: { readonly rule: LimitRule; readonly retryAfterMs: number } | undefined;
}

export function toWire(err: unknown): WireError {
  if (err instanceof LimitExceeded) {
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      limit: { rule: err.rule, retryAfterMs: err.retryAfterMs },
    };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack, limit: undefined };
  return { name: "Error", message: String(err), stack: undefined, limit: undefined };
}

export function fromWire(wire: WireError): Error {
  let err: Error;
  if (wire.limit !== undefined) err = new LimitExceeded(wire.limit.rule, wire.limit.retryAfterMs);
  else {
    err = new Error(wire.message);
    err.name = wire.name;
  }
  // The thread's stack says where the store failed; the caller's would only say "a reply came".
  if (wire.stack !== undefined) err.stack = wire.stack;
  return err;
}
