/** `voicecode watch`: print status events until the watched call ends or the user interrupts. */
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { type CallState, StatusEventSchema, WatchStatusRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { WatchArgs, WatchTarget } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { EXIT_OK, EXIT_UNFINISHED, exitCodeForState } from "./exit-codes.js";
import { formatEvent } from "./format.js";

/** A broken stream, with what to watch and the sequence to pass as --after when retrying. */
export class WatchInterruptedError extends Error {
  override readonly name = "WatchInterruptedError";
  constructor(
    readonly error: ConnectError,
    readonly target: WatchTarget,
    readonly lastSequence: bigint,
  ) {
    super(error.message, { cause: error });
  }
}

export function runWatch(ctx: CliContext, args: WatchArgs): Promise<number> {
  return watchEvents(ctx, args.target, args.after);
}

/** Resolves with the exit code for how the stream ended (see exit-codes.ts). */
export async function watchEvents(ctx: CliContext, target: WatchTarget, after: bigint): Promise<number> {
  const request = create(WatchStatusRequestSchema, { target: { ...target }, afterSequence: after });
  const single = target.case === "callId";
  let last = after;
  let state: CallState | undefined;
  try {
    for await (const { event } of ctx.client.watchStatus(request, callOptions(ctx, false))) {
      if (event === undefined) continue;
      last = event.sequence;
      if (ctx.json) printJson(ctx, StatusEventSchema, event);
      else printLine(ctx, formatEvent(event, !single));
      if (!single || event.callId !== target.value) continue;
      state = event.state;
      // The server closes after the terminal event anyway; stopping here keeps the CLI
      // finite even against a server that does not.
      if (event.terminal) return exitCodeForState(event.state);
    }
  } catch (err) {
    if (ctx.signal?.aborted === true) throw err;
    throw new WatchInterruptedError(ConnectError.from(err), target, last);
  }
  // A call's stream also ends OK after a provisional FAILED whose precise reason never
  // came: the state is final then. Anything else means the call has not ended yet.
  if (!single) return EXIT_OK;
  return state === undefined ? EXIT_UNFINISHED : exitCodeForState(state);
}
