/** runCli: the whole CLI as a function of argv and io, so tests run it in-process. */
import { type CommandArgs, parseCli, UsageError } from "./args.js";
import { type CliContext, connect, type TextSink } from "./context.js";
import { runCheck } from "./check.js";
import { runGet } from "./get.js";
import { runKeys } from "./keys.js";
import { reportError } from "./report-error.js";
import { runNotify } from "./notify.js";
import { runSend } from "./send.js";
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";
import { usageText } from "./usage.js";
import { runWatch } from "./watch.js";

export type { TextSink } from "./context.js";

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Record<string, string | undefined>;
  /** Aborting (Ctrl-C) cancels the RPC in flight; runCli then returns EXIT_INTERRUPTED quietly. */
  readonly signal?: AbortSignal;
}

export {
  EXIT_ERROR,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_UNFINISHED,
  EXIT_USAGE,
} from "./exit-codes.js";

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // Local, no server: its own small parser (see keys.ts).
  if (argv[0] === "keys") return runKeys(argv.slice(1), io.stdout, io.stderr);
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The options did not parse, so look for --json by hand: a script asked for JSON.
    if (argv.includes("--json")) {
      io.stderr.write(`${JSON.stringify({ error: { code: "usage", message: err.message } })}\n`);
    } else {
      io.stderr.write(`error: ${err.message}\n\n${usageText(err.topic)}\n`);
    }
    return EXIT_USAGE;
  }
  if (parsed.kind === "help") {
    io.stdout.write(`${usageText(parsed.topic)}\n`);
    return EXIT_OK;
  }

  const connection = connect(parsed.global.addr, parsed.global.apiKey);
  const ctx: CliContext = {
    client: connection.client,
    addr: parsed.global.addr,
    stdout: io.stdout,
    stderr: io.stderr,
    json: parsed.global.json,
    timeoutMs: parsed.global.timeoutMs,
    signal: io.signal,
  };
  try {
    return await dispatch(ctx, parsed.command);
  } catch (err) {
    if (io.signal?.aborted === true) return EXIT_INTERRUPTED;
    return reportError(err, io.stderr, { json: parsed.global.json, addr: parsed.global.addr });
  } finally {
    connection.close();
  }
}

function dispatch(ctx: CliContext, command: CommandArgs): Promise<number> {
  switch (command.kind) {
    case "send":
      return runSend(ctx, command);
    case "notify":
      return runNotify(ctx, command);
    case "watch":
      return runWatch(ctx, command);
    case "get":
      return runGet(ctx, command);
    case "check":
      return runCheck(ctx, command);
  }
}
