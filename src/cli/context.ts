/** What every command needs: the client, where to print, and how to bound each RPC. */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { toJsonString } from "@bufbuild/protobuf";
import type { CallOptions, Client, Interceptor } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";

/** Anything with write(string): process.stdout, a test buffer. */
export interface TextSink {
  write(chunk: string): unknown;
}

export type VoiceCodeClient = Client<typeof VoiceCode>;

export const DEFAULT_UNARY_TIMEOUT_MS = 30_000;

export interface CliContext {
  readonly client: VoiceCodeClient;
  readonly stdout: TextSink;
  readonly json: boolean;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export function printLine(ctx: CliContext, line: string): void {
  ctx.stdout.write(`${line}\n`);
}

export function printJson<Desc extends DescMessage>(ctx: CliContext, schema: Desc, msg: MessageShape<Desc>): void {
  ctx.stdout.write(`${toJsonString(schema, msg)}\n`);
}

/** A watch may legitimately run for hours, so only unary calls get a default deadline. */
export function callOptions(ctx: CliContext, unary: boolean): CallOptions {
  const timeoutMs = ctx.timeoutMs ?? (unary ? DEFAULT_UNARY_TIMEOUT_MS : undefined);
  return { signal: ctx.signal, timeoutMs };
}

export interface Connection {
  readonly client: VoiceCodeClient;
  close(): void;
}

/** `apiKey`: sent as `authorization: Bearer <key>` on every call. */
export function connect(baseUrl: string, apiKey?: string): Connection {
  // Our own session manager so the HTTP/2 connection can be closed when the command ends,
  // instead of lingering (and holding a server's close()) until the idle timeout.
  const sessionManager = new Http2SessionManager(baseUrl);
  const interceptors: Interceptor[] =
    apiKey === undefined
      ? []
      : [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${apiKey}`);
            return next(req);
          },
        ];
  const transport = createGrpcTransport({ baseUrl, sessionManager, interceptors });
  return { client: createClient(VoiceCode, transport), close: () => sessionManager.abort() };
}
