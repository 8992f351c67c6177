/** The one place RPC failures become stderr text, so every command reports them alike. */
import { Code, ConnectError } from "@connectrpc/connect";
import type { TextSink } from "./context.js";
import { clean } from "./format.js";
import { WatchInterruptedError } from "./watch.js";

/** InvalidArgument -> invalid_argument: the spelling gRPC tooling and the Connect protocol use. */
export function codeName(code: Code): string {
  const name = Code[code] ?? String(code);
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

export function reportError(err: unknown, stderr: TextSink): void {
  const interrupted = err instanceof WatchInterruptedError ? err : undefined;
  const connectErr = interrupted?.error ?? ConnectError.from(err);
  stderr.write(`error: ${codeName(connectErr.code)}: ${clean(connectErr.rawMessage)}\n`);
  if (interrupted !== undefined && interrupted.lastSequence > 0n) {
    stderr.write(`hint: resume with --after ${interrupted.lastSequence}\n`);
  }
}
