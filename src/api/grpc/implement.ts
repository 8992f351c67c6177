/**
 * Turns plain `(request, signal) => Promise | AsyncIterable` functions into grpc-js
 * handlers for a protobuf-es service. Every call gets an AbortSignal that fires when
 * the caller cancels, resets the stream, or its connection dies.
 */
import type {
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  UntypedServiceImplementation,
  sendUnaryData,
} from "@grpc/grpc-js";
import type { DescMethod, Message, MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { toGrpcStatus } from "../errors.js";
import { pump } from "./stream-pump.js";

type Shape<M extends DescMethod["input"]> = MessageShape<M>;

export type UnaryImpl<I extends DescMethod["input"], O extends DescMethod["output"]> = (
  request: Shape<I>,
  signal: AbortSignal,
) => Promise<Shape<O>>;

export type ServerStreamingImpl<I extends DescMethod["input"], O extends DescMethod["output"]> = (
  request: Shape<I>,
  signal: AbortSignal,
) => AsyncIterable<Shape<O>>;

/** The method shapes of a generated service: `MethodsOf<typeof VoiceCode>`. */
export type MethodsOf<T> = T extends GenService<infer S> ? S : never;

/** Only the two kinds this API uses; client and bidi streaming are refused at start-up. */
export type ServiceImpl<S extends GenServiceMethods> = {
  readonly [K in keyof S]: S[K]["methodKind"] extends "unary"
    ? UnaryImpl<S[K]["input"], S[K]["output"]>
    : S[K]["methodKind"] extends "server_streaming"
      ? ServerStreamingImpl<S[K]["input"], S[K]["output"]>
      : never;
};

export interface ImplementOptions {
  /** Sees every failure before it is mapped to a status (for logging). */
  readonly onError?: (method: DescMethod, err: unknown) => void;
}

export function grpcImplementation<S extends GenServiceMethods>(
  service: GenService<S>,
  impl: ServiceImpl<S>,
  options: ImplementOptions = {},
): UntypedServiceImplementation {
  const onError = options.onError ?? (() => undefined);
  const handlers: Record<string, UntypedHandleCall> = {};
  for (const method of service.methods) {
    const fn: unknown = (impl as Record<string, unknown>)[method.localName];
    if (typeof fn !== "function") throw new Error(`no implementation for ${service.typeName}.${method.name}`);
    const bound = fn.bind(impl) as (request: Message, signal: AbortSignal) => unknown;
    switch (method.methodKind) {
      case "unary":
        handlers[method.localName] = unary(method, bound as UnaryImpl<DescMethod["input"], DescMethod["output"]>, onError);
        break;
      case "server_streaming":
        handlers[method.localName] = serverStreaming(
          method,
          bound as ServerStreamingImpl<DescMethod["input"], DescMethod["output"]>,
          onError,
        );
        break;
      default:
        throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} is not supported`);
    }
  }
  return handlers;
}

function unary(
  method: DescMethod,
  fn: UnaryImpl<DescMethod["input"], DescMethod["output"]>,
  onError: (method: DescMethod, err: unknown) => void,
) {
  return (call: ServerUnaryCall<Message, Message>, callback: sendUnaryData<Message>): void => {
    const { signal, dispose } = callSignal(call);
    // async wrapper: a synchronous throw becomes a rejection like any other failure.
    (async () => fn(call.request, signal))().then(
      (response) => {
        dispose();
        callback(null, response);
      },
      (err: unknown) => {
        dispose();
        onError(method, err);
        callback(toGrpcStatus(err));
      },
    );
  };
}

function serverStreaming(
  method: DescMethod,
  fn: ServerStreamingImpl<DescMethod["input"], DescMethod["output"]>,
  onError: (method: DescMethod, err: unknown) => void,
) {
  return (call: ServerWritableStream<Message, Message>): void => {
    const { signal, dispose } = callSignal(call);
    (async () => pump(call, fn(call.request, signal), signal))().then(
      (result) => {
        dispose();
        if (result === "completed" && !signal.aborted) call.end();
      },
      (err: unknown) => {
        dispose();
        onError(method, err);
        // grpc-js's documented way to end a server stream with a status.
        if (!signal.aborted) call.emit("error", toGrpcStatus(err));
      },
    );
  };
}

/**
 * 'cancelled' covers client cancel, RST_STREAM and a dead connection (grpc-js reports
 * all three as a cancel); 'close'/'error' also catch a stream destroyed without one.
 */
function callSignal(call: ServerUnaryCall<Message, Message> | ServerWritableStream<Message, Message>): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (call.cancelled) abort();
  const events = ["cancelled", "close", "error"] as const;
  for (const event of events) call.on(event, abort);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const event of events) call.off(event, abort);
    },
  };
}
