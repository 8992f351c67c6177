/**
 * voicecode.v1.VoiceCode on connect-node (the API port: Connect JSON/binary and
 * gRPC-Web). Only translates: ctx.signal to the core, VoiceCodeError to ConnectError.
 */
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  type CheckRequest,
  type GetCallRequest,
  type NotifyRequest,
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
import { type LogBindings, type RequestScope, startRequest } from "../../telemetry/request-scope.js";
import { Code } from "@connectrpc/connect";

/** `authenticator`: who may call (default open: every caller is tenant "default"). */
export function createConnectRoutes(
  handlers: VoiceCodeHandlers,
  logger?: Logger,
  authenticator: Authenticator = openAuthenticator,
): (router: ConnectRouter) => void {
  const log = logger?.child({ component: "connect" });
  const fail = (method: string, err: unknown, logBindings?: LogBindings): never => {
    if (isUnexpected(err)) {
      log?.error({ ...logBindings, method: `${VoiceCode.typeName}/${method}`, err: describeForLog(err) }, "handler failed");
    }
    throw toConnectError(err);
  };
  // Connect and gRPC-Web both carry it as an HTTP header; a repeated header arrives
  // comma-joined and so never matches a key.
  const caller = (ctx: HandlerContext, logBindings?: LogBindings): Caller => {
    const known = requireCaller(authenticator, ctx.requestHeader.get("authorization") ?? undefined);
    return logBindings === undefined ? known : { ...known, logBindings };
  };

  // Request id (echoed in the response headers), span and log context per call.
  const scope = (method: string, ctx: HandlerContext): RequestScope => {
    const opened = startRequest({
      name: `${VoiceCode.typeName}/${method}`,
      header: (name) => ctx.requestHeader.get(name) ?? undefined,
      attributes: { "rpc.system": "connect_rpc", "rpc.service": VoiceCode.typeName, "rpc.method": method },
    });
    ctx.responseHeader.set("x-request-id", opened.requestId);
    return opened;
  };
  const failure = (err: unknown) => ({ code: Code[toConnectError(err).code] ?? "Unknown" });

  return (router) => {
    router.service(VoiceCode, {
      async send(request: SendRequest, ctx: HandlerContext) {
        const s = scope("Send", ctx);
        try {
          const response = await s.run(() => handlers.send(request, ctx.signal, caller(ctx, s.logBindings)));
          s.end();
          return response;
        } catch (err) {
          s.end(failure(err));
          return fail("Send", err, s.logBindings);
        }
      },
      async notify(request: NotifyRequest, ctx: HandlerContext) {
        const s = scope("Notify", ctx);
        try {
          const response = await s.run(() => handlers.notify(request, ctx.signal, caller(ctx, s.logBindings)));
          s.end();
          return response;
        } catch (err) {
          s.end(failure(err));
          return fail("Notify", err, s.logBindings);
        }
      },
      async getCall(request: GetCallRequest, ctx: HandlerContext) {
        const s = scope("GetCall", ctx);
        try {
          const response = await s.run(() => handlers.getCall(request, ctx.signal, caller(ctx, s.logBindings)));
          s.end();
          return response;
        } catch (err) {
          s.end(failure(err));
          return fail("GetCall", err, s.logBindings);
        }
      },
      async check(request: CheckRequest, ctx: HandlerContext) {
        try {
          return await handlers.check(request, ctx.signal, caller(ctx));
        } catch (err) {
          return fail("Check", err);
        }
      },
      async *watchStatus(request: WatchStatusRequest, ctx: HandlerContext): AsyncGenerator<WatchStatusResponse> {
        const s = scope("WatchStatus", ctx);
        let failed = false;
        try {
          // yield* forwards return(), so the core's finally runs when connect stops early.
          yield* s.iterate(s.run(() => handlers.watchStatus(request, ctx.signal, caller(ctx, s.logBindings))));
        } catch (err) {
          failed = true;
          s.end(failure(err));
          fail("WatchStatus", err, s.logBindings);
        } finally {
          if (!failed) s.end();
        }
      },
    });
  };
}
