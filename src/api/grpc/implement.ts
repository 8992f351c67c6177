/**
 * Turns plain `(request, signal) => Promise | AsyncIterable` functions into grpc-js
 * handlers for a protobuf-es service (bidi: `(requests, signal) => AsyncIterable`).
 * Every call gets an AbortSignal that fires when the caller cancels, resets the
 * stream, or its connection dies.
 */
import type {
  Metadata,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  UntypedServiceImplementation,
  sendUnaryData,
} from "@grpc/grpc-js";
import type { DescMethod, Message, MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { Metadata as GrpcMetadata, status as GrpcStatus } from "@grpc/grpc-js";
import type { LogBindings, RequestScope } from "../../telemetry/request-scope.js";
import type { ResponseSink as CoreResponseSink, StreamControl } from "../../core/handlers.js";
import { toGrpcStatus } from "../errors.js";
import { pump } from "./stream-pump.js";

type Shape<M extends DescMethod["input"]> = MessageShape<M>;

/**
 * `metadata`: the call's request headers (authorization is read from them);
 * `logBindings`: its request scope's ids for log lines, when options.scope opened one.
 */
export type UnaryImpl<I extends DescMethod["input"], O extends DescMethod["output"]> = (
  request: Shape<I>,
  signal: AbortSignal,
  metadata: Metadata,
  logBindings?: LogBindings,
) => Promise<Shape<O>>;

export type ServerStreamingImpl<I extends DescMethod["input"], O extends DescMethod["output"]> = (
  request: Shape<I>,
  signal: AbortSignal,
  metadata: Metadata,
  logBindings?: LogBindings,
) => AsyncIterable<Shape<O>>;

/**
 * The response side of a server stream, for a handler that pushes (see PushStreamingImpl):
 * the core's sink, where grpc-js always has a request scope to run later work in (a watch
 * woken by another request's notice). send() answers false when grpc-js's buffer is over
 * its mark; fail() ends the call with the error's status after onError sees it.
 */
export type ResponseSink<O> = CoreResponseSink<O> & { within<T>(fn: () => T): T };
export type { StreamControl };

/**
 * A server-streaming handler that pushes instead of returning an iterable: no per-call
 * AbortSignal and no pump awaiting the handler, so an idle stream holds only what the
 * handler keeps (WatchStatus: 10 000 idle streams are a normal load). A throw from
 * `push` ends the call with the error's status.
 */
export interface PushStreamingImpl<I extends DescMethod["input"], O extends DescMethod["output"]> {
  readonly push: (
    request: Shape<I>,
    sink: ResponseSink<Shape<O>>,
    metadata: Metadata,
    logBindings?: LogBindings,
  ) => StreamControl;
}

/** The method shapes of a generated service: `MethodsOf<typeof VoiceCode>`. */
export type MethodsOf<T> = T extends GenService<infer S> ? S : never;

/**
 * `requests` ends when the client half-closes or the call ends (cancel, reset, dead
 * connection), so a `for await` over it never outlives the call.
 */
export type BidiStreamingImpl<I extends DescMethod["input"], O extends DescMethod["output"]> = (
  requests: AsyncIterable<Shape<I>>,
  signal: AbortSignal,
  metadata: Metadata,
) => AsyncIterable<Shape<O>>;

/** The kinds the served protos use; client streaming is refused at start-up. */
export type ServiceImpl<S extends GenServiceMethods> = {
  readonly [K in keyof S]: S[K]["methodKind"] extends "unary"
    ? UnaryImpl<S[K]["input"], S[K]["output"]>
    : S[K]["methodKind"] extends "server_streaming"
      ? ServerStreamingImpl<S[K]["input"], S[K]["output"]> | PushStreamingImpl<S[K]["input"], S[K]["output"]>
      : S[K]["methodKind"] extends "bidi_streaming"
        ? BidiStreamingImpl<S[K]["input"], S[K]["output"]>
        : never;
};

/** Sees every failure before it is mapped to a status (for logging), with the call's log ids. */
export type ErrorSink = (method: DescMethod, err: unknown, logBindings?: LogBindings) => void;

export interface ImplementOptions {
  /** Sees every failure before it is mapped to a status (for logging). */
  readonly onError?: ErrorSink;
  /**
   * Opens each call's request scope (request id, span, log context); the handler runs in
   * it and the call's `x-request-id` goes back in its response metadata.
   */
  readonly scope?: (method: DescMethod, metadata: Metadata) => RequestScope;
}

/** Runs a call's handler in its request scope; `end` with the failure (if any) when done. */
interface CallScope {
  readonly logBindings: LogBindings | undefined;
  /** x-request-id not sent yet: a stream sends it with its first message or its status. */
  readonly requestId: string | undefined;
  run<T>(fn: () => T): T;
  iterate<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  end(err?: unknown): void;
}

const NO_SCOPE: CallScope = { logBindings: undefined, requestId: undefined, run: (fn) => fn(), iterate: (s) => s, end: () => {} };

function openScope(
  options: ImplementOptions,
  method: DescMethod,
  call: { readonly metadata: Metadata; sendMetadata(metadata: Metadata): void },
): CallScope {
  if (options.scope === undefined) return NO_SCOPE;
  const scope = options.scope(method, call.metadata);
  // A stream's headers wait for its first message: sent at open, they cost every idle
  // WatchStatus ~1 KiB of heap plus nghttp2's copy (bench/scale/heap-diff.ts).
  const deferred = method.methodKind !== "unary";
  if (!deferred) call.sendMetadata(requestIdHeaders(scope.requestId));
  return {
    logBindings: scope.logBindings,
    requestId: deferred ? scope.requestId : undefined,
    run: scope.run,
    iterate: (source) => scope.iterate(source),
    end: (err) => scope.end(err === undefined ? undefined : { code: statusName(toGrpcStatus(err).code) }),
  };
}

function requestIdHeaders(requestId: string): Metadata {
  const headers = new GrpcMetadata();
  headers.set("x-request-id", requestId);
  return headers;
}

function statusName(code: number | undefined): string {
  return code === undefined ? "UNKNOWN" : (GrpcStatus[code] ?? String(code));
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
    if (method.methodKind === "server_streaming" && isPush(fn)) {
      handlers[method.localName] = pushStreaming(method, fn, onError, options);
      continue;
    }
    if (typeof fn !== "function") throw new Error(`no implementation for ${service.typeName}.${method.name}`);
    // `never`: the first parameter is a request or, for bidi, the request stream.
    const bound = fn.bind(impl) as (request: never, signal: AbortSignal, metadata: Metadata) => unknown;
    switch (method.methodKind) {
      case "unary":
        handlers[method.localName] = unary(
          method,
          bound as UnaryImpl<DescMethod["input"], DescMethod["output"]>,
          onError,
          options,
        );
        break;
      case "server_streaming":
        handlers[method.localName] = serverStreaming(
          method,
          bound as ServerStreamingImpl<DescMethod["input"], DescMethod["output"]>,
          onError,
          options,
        );
        break;
      case "bidi_streaming":
        handlers[method.localName] = bidiStreaming(
          method,
          bound as BidiStreamingImpl<DescMethod["input"], DescMethod["output"]>,
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
  onError: ErrorSink,
  options: ImplementOptions,
) {
  return (call: ServerUnaryCall<Message, Message>, callback: sendUnaryData<Message>): void => {
    const { signal, dispose } = callSignal(call);
    const scope = openScope(options, method, call);
    // async wrapper: a synchronous throw becomes a rejection like any other failure.
    scope.run(async () => fn(call.request, signal, call.metadata, scope.logBindings)).then(
      (response) => {
        dispose();
        scope.end();
        callback(null, response);
      },
      (err: unknown) => {
        dispose();
        onError(method, err, scope.logBindings);
        scope.end(err);
        callback(toGrpcStatus(err));
      },
    );
  };
}

function serverStreaming(
  method: DescMethod,
  fn: ServerStreamingImpl<DescMethod["input"], DescMethod["output"]>,
  onError: ErrorSink,
  options: ImplementOptions,
) {
  return (call: ServerWritableStream<Message, Message>): void => {
    const { signal, dispose } = callSignal(call);
    const scope = openScope(options, method, call);
    respond(
      method,
      call,
      signal,
      () => scope.iterate(scope.run(() => fn(call.request, signal, call.metadata, scope.logBindings))),
      dispose,
      (m, err) => onError(m, err, scope.logBindings),
      (err) => scope.end(err),
      scope.requestId,
    );
  };
}

function bidiStreaming(
  method: DescMethod,
  fn: BidiStreamingImpl<DescMethod["input"], DescMethod["output"]>,
  onError: ErrorSink,
) {
  return (call: ServerDuplexStream<Message, Message>): void => {
    const { signal, dispose } = callSignal(call);
    // Also stops the reader once the response side is done, so it does not wait on a
    // half-close that may never come.
    const finished = new AbortController();
    const requests = readRequests(call, AbortSignal.any([signal, finished.signal]));
    const done = () => {
      finished.abort();
      dispose();
    };
    respond(method, call, signal, () => fn(requests, signal, call.metadata), done, onError);
  };
}

/** Pumps the handler's responses, then ends the call with OK or the mapped error status. */
function respond(
  method: DescMethod,
  call: ServerWritableStream<Message, Message> | ServerDuplexStream<Message, Message>,
  signal: AbortSignal,
  responses: () => AsyncIterable<Message>,
  dispose: () => void,
  onError: ErrorSink,
  settled: (err?: unknown) => void = () => {},
  requestId?: string,
): void {
  // An x-request-id not sent before the first message goes out with the status (in the trailers).
  let unsent = requestId;
  const beforeFirstWrite =
    requestId === undefined
      ? undefined
      : () => {
          unsent = undefined;
          call.sendMetadata(requestIdHeaders(requestId));
        };
  (async () => pump(call, responses(), signal, beforeFirstWrite))().then(
    (result) => {
      dispose();
      settled();
      if (result === "completed" && !signal.aborted) endOk(call, unsent);
    },
    (err: unknown) => {
      dispose();
      onError(method, err);
      settled(err);
      if (!signal.aborted) endWithError(call, err, unsent);
    },
  );
}

type ResponseCall = ServerWritableStream<Message, Message> | ServerDuplexStream<Message, Message>;

/** Ends a stream with OK; an x-request-id not sent yet goes in the trailers. */
function endOk(call: ResponseCall, unsentRequestId: string | undefined): void {
  call.end(unsentRequestId === undefined ? undefined : requestIdHeaders(unsentRequestId));
}

/** Ends a stream with the error's mapped status; an x-request-id not sent yet goes in the trailers. */
function endWithError(call: ResponseCall, err: unknown, unsentRequestId: string | undefined): void {
  const status = toGrpcStatus(err);
  const trailers = unsentRequestId === undefined ? undefined : requestIdHeaders(unsentRequestId);
  if (trailers !== undefined) status.metadata?.merge(trailers);
  // grpc-js's documented way to end a server stream with a status.
  call.emit("error", { ...status, metadata: status.metadata ?? trailers });
}

function isPush(fn: unknown): fn is PushStreamingImpl<DescMethod["input"], DescMethod["output"]> {
  return typeof fn === "object" && fn !== null && typeof (fn as { push?: unknown }).push === "function";
}

function pushStreaming(
  method: DescMethod,
  impl: PushStreamingImpl<DescMethod["input"], DescMethod["output"]>,
  onError: ErrorSink,
  options: ImplementOptions,
) {
  return (call: ServerWritableStream<Message, Message>): void => {
    // The caller may be gone before the handler runs: open nothing.
    if (call.cancelled) return;
    const scope = options.scope?.(method, call.metadata);
    const stream = new PushCall(call, method, onError, scope);
    try {
      const control = scope === undefined
        ? impl.push(call.request, stream, call.metadata)
        : scope.run(() => impl.push(call.request, stream, call.metadata, scope.logBindings));
      stream.started(control);
    } catch (err) {
      stream.fail(err);
    }
  };
}

/**
 * One pushed server stream: the sink its handler writes to, and the listener that tells
 * the handler when the caller is gone. A class with one bound listener, not an
 * AbortController and closures: an idle stream keeps it for as long as it is open.
 */
class PushCall implements ResponseSink<Message> {
  private control: StreamControl | undefined = undefined;
  private done = false;
  private waitingForDrain = false;
  /** x-request-id not sent yet: it goes with the first message or in the trailers. */
  private unsentRequestId: string | undefined;
  /**
   * 'cancelled' covers client cancel, RST_STREAM and a dead connection (grpc-js reports
   * all three as a cancel); 'close'/'error' also catch a stream destroyed without one.
   */
  private readonly gone = (): void => {
    if (!this.finish()) return;
    this.control?.cancel();
    this.scope?.end();
  };

  constructor(
    private readonly call: ServerWritableStream<Message, Message>,
    private readonly method: DescMethod,
    private readonly onError: ErrorSink,
    private readonly scope: RequestScope | undefined,
  ) {
    this.unsentRequestId = scope?.requestId;
    for (const event of CALL_ENDS) call.on(event, this.gone);
  }

  within<T>(fn: () => T): T {
    return this.scope === undefined ? fn() : this.scope.run(fn);
  }

  /** The handler returned its control; if the stream already ended meanwhile, it has nothing to cancel. */
  started(control: StreamControl): void {
    this.control = control;
  }

  send(message: Message): boolean {
    if (this.done) return false;
    const requestId = this.unsentRequestId;
    if (requestId !== undefined) {
      this.unsentRequestId = undefined;
      this.call.sendMetadata(requestIdHeaders(requestId));
    }
    if (this.call.write(message)) return true;
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.call.once("drain", () => {
        this.waitingForDrain = false;
        if (!this.done) this.control?.resume();
      });
    }
    return false;
  }

  end(): void {
    if (!this.finish()) return;
    this.scope?.end();
    endOk(this.call, this.unsentRequestId);
  }

  fail(err: unknown): void {
    if (!this.finish()) return;
    this.onError(this.method, err, this.scope?.logBindings);
    this.scope?.end({ code: statusName(toGrpcStatus(err).code) });
    endWithError(this.call, err, this.unsentRequestId);
  }

  /** False if the stream had already finished. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    for (const event of CALL_ENDS) this.call.off(event, this.gone);
    return true;
  }
}

const CALL_ENDS = ["cancelled", "close", "error"] as const;

/**
 * The call's messages until the client half-closes or `signal` aborts. Read through
 * 'data'/'end', not the stream's async iterator: that one destroys the duplex when the
 * stream errors or the loop exits early, and with it the response half before grpc-js
 * has sent the status (ending a call with a status goes through an 'error' event).
 */
async function* readRequests(call: ServerDuplexStream<Message, Message>, signal: AbortSignal): AsyncGenerator<Message> {
  const queue: Message[] = [];
  let ended = false;
  let wake = () => {};
  const onData = (message: Message) => {
    queue.push(message);
    // One message at a time: the rest stays in grpc-js's buffer, then HTTP/2 flow control.
    call.pause();
    wake();
  };
  const onEnd = () => {
    ended = true;
    wake();
  };
  call.on("data", onData);
  call.on("end", onEnd);
  signal.addEventListener("abort", onEnd);
  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (ended || signal.aborted) return;
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      call.resume();
      await woken;
    }
  } finally {
    call.off("data", onData);
    call.off("end", onEnd);
    signal.removeEventListener("abort", onEnd);
  }
}

/** What callSignal needs of any grpc-js server call (unary, streaming, bidi). */
interface CancellableCall {
  readonly cancelled: boolean;
  on(event: "cancelled" | "close" | "error", listener: () => void): unknown;
  off(event: "cancelled" | "close" | "error", listener: () => void): unknown;
}

/**
 * 'cancelled' covers client cancel, RST_STREAM and a dead connection (grpc-js reports
 * all three as a cancel); 'close'/'error' also catch a stream destroyed without one.
 */
function callSignal(call: CancellableCall): {
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
