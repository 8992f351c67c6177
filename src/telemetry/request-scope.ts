/**
 * One incoming request (an RPC on either port, or a webhook): its request id (the
 * caller's `x-request-id`, else a new one), its server span (child of the caller's W3C
 * `traceparent` when sent), and the async context in which both are on every log line
 * (logger.ts's mixin reads requestLogFields()).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  context,
  isSpanContextValid,
  propagation,
  trace,
} from "@opentelemetry/api";
import { TRACER_NAME } from "./tracing.js";

export interface RequestScope {
  readonly requestId: string;
  /** fn with this request's ids and span active. */
  run<T>(fn: () => T): T;
  /** The source's items, each produced with this request's ids and span active. */
  iterate<T>(source: AsyncIterable<T>): AsyncGenerator<T>;
  /** Ends the span; `error` marks it failed, with `code` (a gRPC/Connect code name). */
  end(error?: { readonly code: string }): void;
}

export interface RequestStart {
  readonly name: string;
  /** Reads one request header (lower-case name); undefined when absent or repeated. */
  readonly header: (name: string) => string | undefined;
  readonly attributes?: Attributes;
}

interface Ids {
  readonly requestId: string;
  readonly span: Span;
}

const current = new AsyncLocalStorage<Ids>();

/** A caller's id is kept if it is a sane token; anything else is replaced (it goes into logs). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const getter: TextMapGetter<(name: string) => string | undefined> = {
  keys: () => [],
  get: (header, key) => header(key),
};

export function startRequest(start: RequestStart): RequestScope {
  const given = start.header("x-request-id");
  const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
  const parent = propagation.extract(ROOT_CONTEXT, start.header, getter);
  const span = trace
    .getTracer(TRACER_NAME)
    .startSpan(start.name, { kind: SpanKind.SERVER, attributes: { ...start.attributes, "request.id": requestId } }, parent);
  const active = trace.setSpan(parent, span);
  const ids: Ids = { requestId, span };
  const run = <T>(fn: () => T): T => context.with(active, () => current.run(ids, fn));
  return {
    requestId,
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
    end(error) {
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
        span.setAttribute("rpc.response.status_code", error.code);
      }
      span.end();
    },
  };
}

/** The active request's ids for a log line; empty outside a request. */
export function requestLogFields(): { request_id?: string; trace_id?: string } {
  const ids = current.getStore();
  if (ids === undefined) return {};
  const spanContext = ids.span.spanContext();
  return isSpanContextValid(spanContext)
    ? { request_id: ids.requestId, trace_id: spanContext.traceId }
    : { request_id: ids.requestId };
}
