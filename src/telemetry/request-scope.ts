/**
 * One incoming request (an RPC on either port, or a webhook): its request id (the
 * caller's `x-request-id`, else a new one), its server span (child of the caller's W3C
 * `traceparent` when sent), and the log bindings that put both on the request's lines.
 *
 * The ids reach log lines explicitly (`logBindings`, handed to the core with the caller),
 * not through async context: on Node 20 an AsyncLocalStorage turns on promise hooks for
 * every promise in the process, which cost ~3.6 KiB per open WatchStatus stream and a
 * tenth of a GetCall (bench/README.md). Only a recording span needs async context (its
 * child spans find their parent through it); with tracing off, `run` and `iterate` add
 * nothing.
 */
import { randomUUID } from "node:crypto";
import {
  type Attributes,
  ROOT_CONTEXT,
  SpanKind,
  type Span,
  SpanStatusCode,
  type TextMapGetter,
  context,
  isSpanContextValid,
  propagation,
  trace,
} from "@opentelemetry/api";
import { TRACER_NAME } from "./tracing.js";

/** What a request's log lines carry: `request_id`, and `trace_id` when the request is traced. */
export interface LogBindings {
  readonly request_id: string;
  readonly trace_id?: string;
}

export interface RequestScope {
  readonly requestId: string;
  readonly logBindings: LogBindings;
  /** fn with this request's span active (for child spans). */
  run<T>(fn: () => T): T;
  /** The source's items, each produced with this request's span active. */
  iterate<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  /** Ends the span; `error` marks it failed, with `code` (a gRPC/Connect code name). */
  end(error?: { readonly code: string }): void;
}

export interface RequestStart {
  readonly name: string;
  /** Reads one request header (lower-case name); undefined when absent or repeated. */
  readonly header: (name: string) => string | undefined;
  readonly attributes?: Attributes;
}

/** A caller's id is kept if it is a sane token; anything else is replaced (it goes into logs). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const getter: TextMapGetter<(name: string) => string | undefined> = {
  keys: () => [],
  get: (header, key) => header(key),
};

/**
 * A random UUID as one flat string. Node builds randomUUID() by concatenation, a tree of
 * ~13 cons strings (~450 B) that a stream keeps for as long as it is open (its request
 * id waits for the first message or the trailers): the copy is ~60 B.
 */
function newRequestId(): string {
  return Buffer.from(randomUUID(), "latin1").toString("latin1");
}

function endSpan(span: Span, error: { readonly code: string } | undefined): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    span.setAttribute("rpc.response.status_code", error.code);
  }
  span.end();
}

/**
 * The scope of a request whose span does not record (tracing off): `run` and `iterate`
 * add nothing. A class, not an object of closures: an open WatchStatus keeps its scope
 * for as long as it is open (bench/README.md, "Watch memory"). Its methods do not use
 * `this` except `end`, so `run` may be passed around detached.
 */
class PlainScope implements RequestScope {
  constructor(
    readonly requestId: string,
    readonly logBindings: LogBindings,
    private readonly span: Span,
  ) {}

  run<T>(fn: () => T): T {
    return fn();
  }

  iterate<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return source;
  }

  end(error?: { readonly code: string }): void {
    endSpan(this.span, error);
  }
}

export function startRequest(start: RequestStart): RequestScope {
  const given = start.header("x-request-id");
  const requestId = given !== undefined && REQUEST_ID.test(given) ? given : newRequestId();
  const parent = propagation.extract(ROOT_CONTEXT, start.header, getter);
  // Attributes only for a span that records: with tracing off, every RPC and stream open
  // would build the object for nothing.
  const span = trace.getTracer(TRACER_NAME).startSpan(start.name, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) span.setAttributes({ ...start.attributes, "request.id": requestId });
  const spanContext = span.spanContext();
  const logBindings: LogBindings = isSpanContextValid(spanContext)
    ? { request_id: requestId, trace_id: spanContext.traceId }
    : { request_id: requestId };
  if (!span.isRecording()) return new PlainScope(requestId, logBindings, span);
  const end = (error?: { readonly code: string }) => endSpan(span, error);

  const active = trace.setSpan(parent, span);
  const run = <T>(fn: () => T): T => context.with(active, fn);
  return {
    requestId,
    logBindings,
    run,
    async *iterate<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
      const it = source[Symbol.asyncIterator]();
      let done = false;
      try {
        for (;;) {
          const next = await run(() => it.next());
          if (next.done === true) {
            done = true;
            return;
          }
          yield next.value;
        }
      } finally {
        if (!done) await run(() => it.return?.());
      }
    },
    end,
  };
}
