/** `voicecode get`: the call record, then its whole event history. */
import { create } from "@bufbuild/protobuf";
import { GetCallRequestSchema, GetCallResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { GetArgs } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { formatCall, formatEvent } from "./format.js";

export async function runGet(ctx: CliContext, args: GetArgs): Promise<number> {
  const res = await ctx.client.getCall(create(GetCallRequestSchema, { callId: args.callId }), callOptions(ctx, true));
  if (ctx.json) {
    printJson(ctx, GetCallResponseSchema, res);
    return 0;
  }
  if (res.call !== undefined) for (const line of formatCall(res.call)) printLine(ctx, line);
  printLine(ctx, res.events.length === 0 ? "events: none" : "events:");
  for (const event of res.events) printLine(ctx, `  ${formatEvent(event, false)}`);
  return 0;
}
