/**
 * voicecode.v1.VoiceCode on connect-node (the API port: Connect JSON/binary and
 * gRPC-Web). Only translates: ctx.signal to the core, VoiceCodeError to ConnectError.
 */
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  type GetCallRequest,
  type SendRequest,
  VoiceCode,
  type WatchStatusRequest,
  type WatchStatusResponse,
} from "../../../gen/voicecode/v1/voicecode_pb.js";
import type { Authenticator } from "../../auth/authenticator.js";
import { openAuthenticator, requireCaller } from "../../auth/require-caller.js";
import type { Caller } from "../../core/caller.js";
import type { VoiceCodeHandlers } from "../../core/handlers.js";
import { describeForLog, isUnexpected, toConnectError } from "../errors.js";

/** `authenticator`: who may call (default open: every caller is tenant "default"). */
export function createConnectRoutes(
  handlers: VoiceCodeHandlers,
  logger?: Logger,
  authenticator: Authenticator = openAuthenticator,
): (router: ConnectRouter) => void {
  const log = logger?.child({ component: "connect" });
  const fail = (method: string, err: unknown): never => {
    if (isUnexpected(err)) log?.error({ method: `${VoiceCode.typeName}/${method}`, err: describeForLog(err) }, "handler failed");
    throw toConnectError(err);
  };
  // Connect and gRPC-Web both carry it as an HTTP header; a repeated header arrives
  // comma-joined and so never matches a key.
  const caller = (ctx: HandlerContext): Caller =>
    requireCaller(authenticator, ctx.requestHeader.get("authorization") ?? undefined);

  return (router) => {
    router.service(VoiceCode, {
      async send(request: SendRequest, ctx: HandlerContext) {
        try {
          return await handlers.send(request, ctx.signal, caller(ctx));
        } catch (err) {
          return fail("Send", err);
        }
      },
      async getCall(request: GetCallRequest, ctx: HandlerContext) {
        try {
          return await handlers.getCall(request, ctx.signal, caller(ctx));
        } catch (err) {
          return fail("GetCall", err);
        }
      },
      async *watchStatus(request: WatchStatusRequest, ctx: HandlerContext): AsyncGenerator<WatchStatusResponse> {
        try {
          // yield* forwards return(), so the core's finally runs when connect stops early.
          yield* handlers.watchStatus(request, ctx.signal, caller(ctx));
        } catch (err) {
          fail("WatchStatus", err);
        }
      },
    });
  };
}
