/**
 * The Check RPC: validate, let the store decide in one transaction (attempt claimed
 * atomically, the typed code compared with the stored hash in constant time by
 * src/verify/code-hash.ts under the store's keyring), announce the
 * verification event on the bus so watchers see it.
 */
import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { type CheckRequest, type CheckResponse, CheckResponseSchema, CheckResult } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { Bus } from "../bus/bus.js";
import type { Caller } from "../core/caller.js";
import { invalidArgument } from "../core/errors.js";
import { checkCallId, checkClientReference } from "../core/validate-fields.js";
import type { Store } from "../store/store.js";
import type { CheckTarget } from "../store/verifications.js";

export interface CheckDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly now: () => number;
}

const DIGITS = /^[0-9]{1,8}$/;

export async function check(deps: CheckDeps, request: CheckRequest, caller: Caller): Promise<CheckResponse> {
  const target = checkTarget(request.target, caller.tenant);
  if (request.code === "") throw invalidArgument("code", "is required");
  // Refused before any attempt is spent: no stored code can match it anyway.
  if (!DIGITS.test(request.code)) throw invalidArgument("code", "must be 1 to 8 digits 0-9");
  const typed = request.code;
  const outcome = await deps.store.checkVerification({
    target,
    nowMs: deps.now(),
    code: typed,
  });
  if (outcome.event !== undefined) deps.bus.publish([outcome.event]);
  deps.logger.info(
    {
      ...caller.logBindings,
      tenant: caller.tenant,
      callId: outcome.callId || undefined,
      result: CheckResult[outcome.result],
      attemptsLeft: outcome.attemptsLeft,
    },
    "check",
  );
  return create(CheckResponseSchema, {
    result: outcome.result,
    attemptsLeft: outcome.attemptsLeft,
    callId: outcome.callId,
  });
}

function checkTarget(target: CheckRequest["target"], tenant: string): CheckTarget {
  switch (target.case) {
    case "callId":
      return { tenant, callId: checkCallId(target.value) };
    case "clientReference":
      if (target.value === "") throw invalidArgument("client_reference", "is required");
      checkClientReference(target.value);
      return { tenant, clientReference: target.value };
    default:
      throw invalidArgument("target", "set call_id or client_reference");
  }
}
