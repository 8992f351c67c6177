/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured. The spans go through
 * the global @opentelemetry/api, whose default is a no-op: with tracing off every span
 * call returns at once, so the hot path pays nothing measurable, and `traced()` needs no
 * tracer passed down to wherever a provider or store call happens.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

export interface TracingConfig {
  /** Full URL spans are POSTed to (OTLP/HTTP protobuf), e.g. http://collector:4318/v1/traces. */
  readonly endpoint: string;
  readonly serviceName: string;
}

export interface TracingOptions {
  /** Undefined (and no exporter): tracing off. */
  readonly config: TracingConfig | undefined;
  /** Tests: spans go here, one by one, instead of to OTLP. */
  readonly exporter?: SpanExporter;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes and stops the exporter; the global API is a no-op again. */
  shutdown(): Promise<void>;
}

export const TRACER_NAME = "voicecode";

export function createTracing(options: TracingOptions): Tracing {
  if (options.config === undefined && options.exporter === undefined) {
    return { enabled: false, shutdown: async () => {} };
  }
  const processor =
    options.exporter !== undefined
      ? new SimpleSpanProcessor(options.exporter)
      : new BatchSpanProcessor(new OTLPTraceExporter({ url: options.config?.endpoint }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.config?.serviceName ?? "voicecode" }),
    spanProcessors: [processor],
  });
  // The context manager carries the active span across awaits (parent of child spans).
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    enabled: true,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
