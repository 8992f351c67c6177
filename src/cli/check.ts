/** `voicecode check`: one Check; exit 0 only when the code was approved, so scripts can branch. */
import { create } from "@bufbuild/protobuf";
import { CheckRequestSchema, CheckResponseSchema, CheckResult } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { CheckArgs } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { clean } from "./format.js";

export async function runCheck(ctx: CliContext, args: CheckArgs): Promise<number> {
  const request = create(CheckRequestSchema, { target: args.target, code: args.code });
  const res = await ctx.client.check(request, callOptions(ctx, true));
  if (ctx.json) {
    printJson(ctx, CheckResponseSchema, res);
  } else {
    const name = CheckResult[res.result] ?? String(res.result);
    const left = res.result === CheckResult.WRONG_CODE ? ` (${res.attemptsLeft} attempts left)` : "";
    const call = res.callId === "" ? "" : `  ${clean(res.callId)}`;
    printLine(ctx, `${name}${left}${call}`);
  }
  return res.result === CheckResult.APPROVED ? 0 : 1;
}
