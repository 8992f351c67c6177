/**
 * The service core as the transports see it: the generated request/response types in,
 * VoiceCodeError out. Both transports (grpc-js on the gRPC port, connect-node on the
 * API port) call exactly these functions and know nothing else about the core. They
 * authenticate the request and pass the `caller`; the core decides what it may see.
 */
import type { Caller } from "./caller.js";
import type {
  CheckRequest,
  CheckResponse,
  GetCallRequest,
  GetCallResponse,
  NotifyRequest,
  NotifyResponse,
  SendRequest,
  SendResponse,
  WatchStatusRequest,
  WatchStatusResponse,
} from "../../gen/voicecode/v1/voicecode_pb.js";

/** The response side of a stream, for a handler that pushes. */
export interface ResponseSink<O> {
  /** false: the transport's buffer is full; send more only after StreamControl.resume(). */
  send(message: O): boolean;
  /** Ends the stream normally. */
  end(): void;
  /** Ends the stream with the error's status. */
  fail(err: unknown): void;
  /** Runs fn in the stream's request context (its span), for work a later wake-up starts. */
  within?<T>(fn: () => T): T;
}

/** What the transport calls on a pushing handler. */
export interface StreamControl {
  /** The caller is gone: release everything; nothing more may be sent. */
  cancel(): void;
  /** The buffer drained after send() returned false. */
  resume(): void;
}

export interface VoiceCodeHandlers {
  send(request: SendRequest, signal: AbortSignal, caller: Caller): Promise<SendResponse>;
  /** A template notification (or IVR) call, created exactly like a Send. */
  notify(request: NotifyRequest, signal: AbortSignal, caller: Caller): Promise<NotifyResponse>;
  /** NOT_FOUND for another tenant's call, exactly as for an unknown id. */
  getCall(request: GetCallRequest, signal: AbortSignal, caller: Caller): Promise<GetCallResponse>;
  /**
   * Ends normally after a single call's terminal event; throws VoiceCodeError
   * UNAVAILABLE when the server drains; stops without error when `signal` aborts.
   */
  watchStatus(request: WatchStatusRequest, signal: AbortSignal, caller: Caller): AsyncIterable<WatchStatusResponse>;
  /**
   * The same stream for a transport that pushes (grpc-js): written to `sink`, with no
   * promise or generator held while the watch is idle. Throws for an invalid request;
   * otherwise ends through the sink exactly as watchStatus ends its iterable. Optional:
   * a transport falls back to watchStatus without it.
   */
  pushWatchStatus?(request: WatchStatusRequest, caller: Caller, sink: ResponseSink<WatchStatusResponse>): StreamControl;
  /** Every outcome (NOT_FOUND included) is a CheckResult; only a malformed request throws. */
  check(request: CheckRequest, signal: AbortSignal, caller: Caller): Promise<CheckResponse>;
}
