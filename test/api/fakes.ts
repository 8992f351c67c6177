/**
 * A scriptable VoiceCodeHandlers for the transport tests: the request picks the
 * behaviour, and counters show whether each watch's `finally` ran.
 */
import { create } from "@bufbuild/protobuf";
import {
  CallSchema,
  type CheckResponse,
  CheckResponseSchema,
  CheckResult,
  CallState,
  type GetCallResponse,
  GetCallResponseSchema,
  type NotifyResponse,
  NotifyResponseSchema,
  type SendResponse,
  SendResponseSchema,
  StatusEventSchema,
  type WatchStatusResponse,
  WatchStatusResponseSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { VoiceCodeError, invalidArgument, notFound } from "../../src/core/errors.js";
import type { ResponseSink, StreamControl, VoiceCodeHandlers } from "../../src/core/handlers.js";

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const SECRET = "db password is hunter2";

/** Phone numbers for Send. */
export const PHONE = { ok: "+8613711112222", invalid: "+1", boom: "+boom", slow: "+slow" } as const;

/** WatchStatus call ids. */
export const WATCH = {
  /** Three events, the last terminal, then OK. */
  finite: "finite",
  /** One event, then waits for the abort and (misbehaving) yields again: only return() releases it. */
  hang: "hang",
  /** Large events as fast as the consumer takes them. */
  flood: "flood",
  /** One event, then UNAVAILABLE when fakes.drainCore() is called (the core's drain). */
  drains: "drains",
  invalid: "invalid",
  /** One event, then an unexpected error. */
  boom: "boom",
} as const;

export interface FakeHandlers extends VoiceCodeHandlers {
  readonly counters: {
    watchesStarted: number;
    watchesReleased: number;
    yielded: number;
    slowSends: number;
    /** Pushed watches: times send() said the buffer was full, and resume() calls that followed. */
    held: number;
    resumed: number;
  };
  /** Resolves with the signal of the first "+slow" Send once it is running. */
  readonly slowSendStarted: Deferred<AbortSignal>;
  /** Lets every "+slow" Send return. */
  finishSlowSends(): void;
  /** Ends "drains" watches with UNAVAILABLE, like VoiceCodeService.drain(). */
  drainCore(): void;
}

/**
 * `push`: also offer pushWatchStatus (the grpc-js port then pushes, as with the real
 * core), driving the same scripted watches through a sink: the transport's push path
 * gets the same tests as its pump path.
 */
export function createFakeHandlers(options: { readonly push?: boolean } = {}): FakeHandlers {
  const counters = { watchesStarted: 0, watchesReleased: 0, yielded: 0, slowSends: 0, held: 0, resumed: 0 };
  const slowSendStarted = deferred<AbortSignal>();
  const slowGate = deferred();
  const coreDrained = deferred();

  const event = (callId: string, sequence: number, terminal = false, text = ""): WatchStatusResponse =>
    create(WatchStatusResponseSchema, {
      event: create(StatusEventSchema, {
        sequence: BigInt(sequence),
        callId,
        state: terminal ? CallState.COMPLETED : CallState.RINGING,
        terminal,
        providerText: text,
      }),
    });

  async function* watch(callId: string, signal: AbortSignal): AsyncGenerator<WatchStatusResponse> {
    counters.watchesStarted += 1;
    try {
      switch (callId) {
        case WATCH.finite:
          for (let i = 1; i <= 3; i++) yield event(callId, i, i === 3);
          return;
        case WATCH.hang:
          yield event(callId, 1);
          await untilAborted(signal);
          for (let i = 2; ; i++) yield event(callId, i);
        case WATCH.flood: {
          const text = "x".repeat(64 * 1024);
          for (let i = 1; ; i++) {
            counters.yielded += 1;
            yield event(callId, i, false, text);
          }
        }
        case WATCH.drains:
          yield event(callId, 1);
          await coreDrained.promise;
          throw new VoiceCodeError("UNAVAILABLE", "server is draining; reconnect with after_sequence");
        case WATCH.invalid:
          throw invalidArgument("target", "exactly one of call_id or client_reference must be set");
        case WATCH.boom:
          yield event(callId, 1);
          throw new Error(SECRET);
        default:
          throw notFound("call_id", "no such call");
      }
    } finally {
      counters.watchesReleased += 1;
    }
  }

  const handlers: FakeHandlers = {
    counters,
    slowSendStarted,
    finishSlowSends: () => slowGate.resolve(),
    drainCore: () => coreDrained.resolve(),
    async send(request, signal): Promise<SendResponse> {
      if (request.phoneNumber === PHONE.invalid) throw invalidArgument("phone_number", "not a possible number");
      if (request.phoneNumber === PHONE.boom) throw new Error(SECRET);
      if (request.phoneNumber === PHONE.slow) {
        counters.slowSends += 1;
        slowSendStarted.resolve(signal);
        await slowGate.promise;
      }
      return create(SendResponseSchema, {
        callId: "01JCALL",
        provider: request.provider || "sandbox",
        providerCallId: `p-${request.code}`,
        state: CallState.ACCEPTED,
      });
    },
    async notify(request): Promise<NotifyResponse> {
      if (request.phoneNumber === PHONE.invalid) throw invalidArgument("phone_number", "not a possible number");
      return create(NotifyResponseSchema, {
        callId: "01JNOTIFY",
        provider: request.provider || "sandbox",
        providerCallId: `p-${request.templateName}`,
        state: CallState.ACCEPTED,
      });
    },
    async getCall(request): Promise<GetCallResponse> {
      if (request.callId !== "01JCALL") throw notFound("call_id", "no such call");
      return create(GetCallResponseSchema, {
        call: create(CallSchema, { callId: request.callId, provider: "sandbox", state: CallState.COMPLETED }),
        events: [event(request.callId, 1).event!, event(request.callId, 2, true).event!],
      });
    },
    watchStatus(request, signal) {
      const callId = request.target.case === "callId" ? request.target.value : "";
      return watch(callId, signal);
    },
    async check(): Promise<CheckResponse> {
      return create(CheckResponseSchema, { result: CheckResult.NOT_FOUND });
    },
  };
  if (options.push !== true) return handlers;
  return {
    ...handlers,
    pushWatchStatus(request, _caller, sink) {
      const callId = request.target.case === "callId" ? request.target.value : "";
      if (callId === WATCH.invalid) throw invalidArgument("target", "exactly one of call_id or client_reference must be set");
      return pushFrom((signal) => watch(callId, signal), sink, counters);
    },
  };
}

/** Drives a scripted watch into a sink, waiting for resume() whenever send() says the buffer is full. */
function pushFrom(
  start: (signal: AbortSignal) => AsyncGenerator<WatchStatusResponse>,
  sink: ResponseSink<WatchStatusResponse>,
  counters: { held: number; resumed: number },
): StreamControl {
  const gone = new AbortController();
  const watched = start(gone.signal);
  let resume = () => {};
  void (async () => {
    try {
      for await (const message of watched) {
        if (gone.signal.aborted) return;
        if (!sink.send(message)) {
          counters.held += 1;
          await new Promise<void>((resolve) => {
            resume = resolve;
          });
          if (gone.signal.aborted) return;
        }
      }
      sink.end();
    } catch (err) {
      if (!gone.signal.aborted) sink.fail(err);
    }
  })();
  // Leaving the loop runs the watch's return(), so its finally counts the release.
  const cancel = () => {
    gone.abort();
    resume();
  };
  return {
    cancel,
    resume: () => {
      counters.resumed += 1;
      resume();
    },
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
