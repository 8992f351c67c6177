/** `voicecode send`: one Send, optionally followed by a watch of the call it created. */
import { create } from "@bufbuild/protobuf";
import { CallState, SendRequestSchema, SendResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { SendArgs } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { EXIT_OK, exitCodeForState } from "./exit-codes.js";
import { formatSendResponse } from "./format.js";
import { resumeCommand } from "./resume-command.js";
import { watchEvents } from "./watch.js";

export async function runSend(ctx: CliContext, args: SendArgs): Promise<number> {
  const request = create(SendRequestSchema, {
    phoneNumber: args.to,
    code: args.code,
    playTimes: args.playTimes,
    provider: args.provider,
    clientReference: args.ref,
    idempotencyKey: args.idempotencyKey,
    metadata: args.meta,
    generateCode: args.generate,
    codeLength: args.codeLength,
    codeTtlSeconds: args.codeTtlSeconds,
    enableCheck: args.enableCheck,
  });
  const res = await ctx.client.send(request, callOptions(ctx, true));
  if (ctx.json) printJson(ctx, SendResponseSchema, res);
  else printLine(ctx, formatSendResponse(res));
  if (!args.watch) {
    if (res.state === CallState.PENDING && !ctx.json) {
      const follow = resumeCommand({ case: "callId", value: res.callId }, 0n, ctx.addr);
      ctx.stderr.write(`hint: the provider's answer was lost; follow the call with: ${follow}\n`);
    }
    // ACCEPTED is 0 (the provider took it), FAILED 3 (refused), PENDING 4 (not known).
    return res.state === CallState.ACCEPTED ? EXIT_OK : exitCodeForState(res.state);
  }
  // Watch from the start even when Send already reports FAILED: the stored terminal
  // event (with the provider's code) is what the user wants to see, and the stream then ends.
  return watchEvents(ctx, { case: "callId", value: res.callId }, 0n);
}
