/**
 * `traced(name, fn)`: fn inside a child span of the active one (ended when fn's promise
 * settles; an error marks it). With tracing off it is fn() and a no-op span.
 */
import { type Attributes, SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { TRACER_NAME } from "./tracing.js";

export function traced<T>(
  name: string,
  fn: () => T,
  attributes: Attributes = {},
  kind: SpanKind = SpanKind.INTERNAL,
): T {
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes });
  if (!span.isRecording()) return fn();
  const fail = (err: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : "error" });
  };
  let result: T;
  try {
    result = context.with(trace.setSpan(context.active(), span), fn);
  } catch (err) {
    fail(err);
    span.end();
    throw err;
  }
  if (result instanceof Promise) {
    result.then(
      () => span.end(),
      (err: unknown) => {
        fail(err);
        span.end();
      },
    );
  } else {
    span.end();
  }
  return result;
}

/** The span of one provider request (Send), named for the provider. */
export function tracedProviderSend<T>(provider: { readonly name: string }, send: () => Promise<T>): Promise<T> {
  return traced("provider.send", send, { "voicecode.provider": provider.name }, SpanKind.CLIENT);
}
