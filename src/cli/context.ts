/** What every command needs: the client, where to print, and how to bound each RPC. */
import type * as http2 from "node:http2";
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
  /** The server address, for commands that print how to follow up. */
  readonly addr: string;
  readonly stdout: TextSink;
  /** Hints for a person; never data. */
  readonly stderr: TextSink;
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

/**
 * connect-node stops listening to a session when it is aborted, but a session that failed
 * (an HTTP/1 server answering our HTTP/2 preface) emits its "error" only as it finishes
 * closing, after that: with no listener, Node crashes the process. The RPC has already
 * reported the failure, so a listener that ignores it is all that is missing.
 */
class QuietSessionManager extends Http2SessionManager {
  private readonly guarded = new WeakSet<http2.Http2Session>();

  override async request(...args: Parameters<Http2SessionManager["request"]>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const { session } = stream;
    if (session !== undefined && !this.guarded.has(session)) {
      this.guarded.add(session);
      session.on("error", () => {});
    }
    return stream;
  }
}

/** `apiKey`: sent as `authorization: Bearer <key>` on every call. */
export function connect(baseUrl: string, apiKey?: string): Connection {
  // Our own session manager so the HTTP/2 connection can be closed when the command ends,
  // instead of lingering (and holding a server's close()) until the idle timeout.
  const sessionManager = new QuietSessionManager(baseUrl);
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
