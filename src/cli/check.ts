/**
 * `voicecode check`: one Check. Exit 0 only when the code was approved, 3 for any other
 * answer (the person did not get through), 1 for an RPC error: scripts branch on it.
 */
import { create } from "@bufbuild/protobuf";
import { CheckRequestSchema, CheckResponseSchema, CheckResult } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { CheckArgs } from "./args.js";
import { type CliContext, callOptions, printJson, printLine } from "./context.js";
import { EXIT_FAILED, EXIT_OK } from "./exit-codes.js";
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
  return res.result === CheckResult.APPROVED ? EXIT_OK : EXIT_FAILED;
}
