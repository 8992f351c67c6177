/** `voicecode notify`: one Notify, optionally followed by a watch of the call it created. */
import { create } from "@bufbuild/protobuf";
import { CallState, NotifyRequestSchema, NotifyResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { NotifyArgs } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { EXIT_OK, exitCodeForState } from "./exit-codes.js";
import { formatSendResponse } from "./format.js";
import { resumeCommand } from "./resume-command.js";
import { watchEvents } from "./watch.js";

export async function runNotify(ctx: CliContext, args: NotifyArgs): Promise<number> {
  const request = create(NotifyRequestSchema, {
    phoneNumber: args.to,
    templateName: args.template,
    templateParams: args.params,
    collectKeyPress: args.ivr,
    displayNumber: args.caller,
    provider: args.provider,
    clientReference: args.ref,
    idempotencyKey: args.idempotencyKey,
    metadata: args.meta,
  });
  const res = await ctx.client.notify(request, callOptions(ctx, true));
  if (ctx.json) printJson(ctx, NotifyResponseSchema, res);
  else printLine(ctx, formatSendResponse(res));
  if (!args.watch) {
    if (res.state === CallState.PENDING && !ctx.json) {
      const follow = resumeCommand({ case: "callId", value: res.callId }, 0n, ctx.addr);
      ctx.stderr.write(`hint: the provider's answer was lost; follow the call with: ${follow}\n`);
    }
    // As send: ACCEPTED 0, FAILED 3, PENDING 4.
    return res.state === CallState.ACCEPTED ? EXIT_OK : exitCodeForState(res.state);
  }
  return watchEvents(ctx, { case: "callId", value: res.callId }, 0n);
}
