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
import type { VoiceCodeHandlers } from "../../core/handlers.js";
import { describeForLog, isUnexpected, toConnectError } from "../errors.js";

export function createConnectRoutes(handlers: VoiceCodeHandlers, logger?: Logger): (router: ConnectRouter) => void {
  const log = logger?.child({ component: "connect" });
  const fail = (method: string, err: unknown): never => {
    if (isUnexpected(err)) log?.error({ method: `${VoiceCode.typeName}/${method}`, err: describeForLog(err) }, "handler failed");
    throw toConnectError(err);
  };

  return (router) => {
    router.service(VoiceCode, {
      async send(request: SendRequest, ctx: HandlerContext) {
        try {
          return await handlers.send(request, ctx.signal);
        } catch (err) {
          return fail("Send", err);
        }
      },
      async getCall(request: GetCallRequest, ctx: HandlerContext) {
        try {
          return await handlers.getCall(request, ctx.signal);
        } catch (err) {
          return fail("GetCall", err);
        }
      },
      async *watchStatus(request: WatchStatusRequest, ctx: HandlerContext): AsyncGenerator<WatchStatusResponse> {
        try {
          // yield* forwards return(), so the core's finally runs when connect stops early.
          yield* handlers.watchStatus(request, ctx.signal);
        } catch (err) {
          fail("WatchStatus", err);
        }
      },
    });
  };
}
