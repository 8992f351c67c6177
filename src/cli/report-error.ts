/** The one place failures become stderr text (or JSON), so every command reports them alike. */
import { Code, ConnectError } from "@connectrpc/connect";
import type { TextSink } from "./context.js";
import { EXIT_ERROR, EXIT_UNFINISHED } from "./exit-codes.js";
import { clean } from "./format.js";
import { resumeCommand } from "./resume-command.js";
import { WatchInterruptedError } from "./watch.js";

/** InvalidArgument -> invalid_argument: the spelling gRPC tooling and the Connect protocol use. */
export function codeName(code: Code): string {
  const name = Code[code] ?? String(code);
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

export interface ReportOptions {
  readonly json: boolean;
  /** The server address the command used, for the resume command and wrong-port advice. */
  readonly addr: string;
}

interface Report {
  readonly code: string;
  readonly message: string;
  /** The message already says what happened; the gRPC code would only distract. */
  readonly explained: boolean;
  readonly callId?: string;
  readonly afterSequence?: bigint;
  readonly hint?: string;
}

// Ends of a watch after which the same watch, resumed, can still see the call end.
const RESUMABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Aborted]);

/** Writes the report and returns the exit code. */
export function reportError(err: unknown, stderr: TextSink, options: ReportOptions): number {
  const interrupted = err instanceof WatchInterruptedError ? err : undefined;
  const connectErr = interrupted?.error ?? ConnectError.from(err);
  const resumable = interrupted !== undefined && RESUMABLE.has(connectErr.code);
  const wrongPort = wrongPortMessage(connectErr, options.addr);
  const report: Report = {
    code: codeName(connectErr.code),
    message: wrongPort ?? clean(connectErr.rawMessage),
    explained: wrongPort !== undefined,
    ...(resumable
      ? {
          callId: interrupted.target.case === "callId" ? interrupted.target.value : undefined,
          afterSequence: interrupted.lastSequence,
          hint: `resume with: ${resumeCommand(interrupted.target, interrupted.lastSequence, options.addr)}`,
        }
      : {}),
  };
  stderr.write(options.json ? `${reportJson(report)}\n` : reportText(report));
  return resumable ? EXIT_UNFINISHED : EXIT_ERROR;
}

function reportText(r: Report): string {
  const line = r.explained ? `error: ${r.message}\n` : `error: ${r.code}: ${r.message}\n`;
  return r.hint === undefined ? line : `${line}hint: ${r.hint}\n`;
}

function reportJson(r: Report): string {
  // Sequences are 64-bit: strings, as protobuf JSON writes them.
  return JSON.stringify({
    error: {
      code: r.code,
      message: r.message,
      callId: r.callId,
      afterSequence: r.afterSequence === undefined ? undefined : String(r.afterSequence),
      hint: r.hint,
    },
  });
}

/**
 * The two wrong ports people try: the API port answers a gRPC request with HTTP 415
 * (it serves Connect and gRPC-Web only), the webhook port does not speak HTTP/2 at all.
 */
function wrongPortMessage(err: ConnectError, addr: string): string | undefined {
  const advice = "the CLI speaks gRPC, use the gRPC port (default 50051)";
  if (err.code === Code.Unknown && err.rawMessage === "HTTP 415") {
    return `${addr} looks like the API port (it answered HTTP 415 to gRPC); ${advice}`;
  }
  if (causes(err).some((c) => c.code === "ERR_HTTP2_ERROR" && c.errno === HTTP2_PROTOCOL_ERROR)) {
    return `${addr} does not speak HTTP/2 (the webhook port?); ${advice}`;
  }
  return undefined;
}

/** nghttp2's NGHTTP2_ERR_PROTO: the peer's bytes are not HTTP/2 (an HTTP/1 answer). */
const HTTP2_PROTOCOL_ERROR = -505;

/** The error and its causes (bounded: a cause may point back up the chain). */
function causes(err: unknown): NodeJS.ErrnoException[] {
  const chain: NodeJS.ErrnoException[] = [];
  let current: unknown = err;
  while (current instanceof Error && !chain.includes(current) && chain.length < 10) {
    chain.push(current);
    current = current.cause;
  }
  return chain;
}
