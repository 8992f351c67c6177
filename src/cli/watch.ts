/** `voicecode watch`: print status events until the watched call ends or the user interrupts. */
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { StatusEventSchema, WatchStatusRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { WatchArgs, WatchTarget } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { formatEvent } from "./format.js";

/** A broken stream plus the sequence to pass as --after when retrying. */
export class WatchInterruptedError extends Error {
  override readonly name = "WatchInterruptedError";
  constructor(
    readonly error: ConnectError,
    readonly lastSequence: bigint,
  ) {
    super(error.message, { cause: error });
  }
}

export function runWatch(ctx: CliContext, args: WatchArgs): Promise<number> {
  return watchEvents(ctx, args.target, args.after);
}

export async function watchEvents(ctx: CliContext, target: WatchTarget, after: bigint): Promise<number> {
  const request = create(WatchStatusRequestSchema, { target: { ...target }, afterSequence: after });
  const single = target.case === "callId";
  let last = after;
  try {
    for await (const { event } of ctx.client.watchStatus(request, callOptions(ctx, false))) {
      if (event === undefined) continue;
      last = event.sequence;
      if (ctx.json) printJson(ctx, StatusEventSchema, event);
      else printLine(ctx, formatEvent(event, !single));
      // The server closes after the terminal event anyway; stopping here keeps the CLI
      // finite even against a server that does not.
      if (single && event.terminal && event.callId === target.value) return 0;
    }
    return 0;
  } catch (err) {
    if (ctx.signal?.aborted === true) throw err;
    throw new WatchInterruptedError(ConnectError.from(err), last);
  }
}
