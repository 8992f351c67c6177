/**
 * The simulated carrier: "the provider's side" of the sandbox. It plays each placed
 * call's scripted callbacks as real HTTP POSTs to our webhook, with a real carrier's
 * habits: a failed push is retried with backoff, and a call's later pushes wait for the
 * earlier ones, so per-call order holds. It lives apart from the adapter so a test can
 * keep it running while the server under test restarts.
 */
import type { CallState } from "../../core/model.js";
import { stateRank } from "../../core/states.js";
import { stateForEvent } from "./normalize.js";
import { postCallback } from "./post.js";
import { scenarioFor } from "./scenarios.js";
import { createRealtimeScheduler, type Scheduler } from "./scheduler.js";
import type { SandboxCallback, SandboxEvent } from "./wire.js";

export interface SandboxNetworkOptions {
  /** Where to POST; read at each attempt so a URL that changes (restart, new port) is followed. */
  readonly callbackUrl: () => string | undefined;
  readonly scheduler?: Scheduler;
  /** Length of one step of a call script. Default 800. */
  readonly stepDelayMs?: number;
  /** First retry delay, doubled per attempt up to a minute. Default 1000. */
  readonly retryDelayMs?: number;
  /** Attempts per callback before the carrier gives up on it. Default 6. */
  readonly maxAttempts?: number;
  /** Per-attempt timeout. Default 5000. */
  readonly requestTimeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** The carrier's clock, for callback timestamps. Default Date.now. */
  readonly now?: () => number;
  /** Every failed attempt, retried or not; the sandbox itself logs nothing. */
  readonly onDeliveryError?: (error: SandboxDeliveryError) => void;
}

export interface PlaceCallRequest {
  /** Our call id, echoed back as userData. */
  readonly callId: string;
  readonly providerCallId: string;
  /** Only its last digits are read, to pick the script; it is never kept. */
  readonly phoneNumber: string;
  readonly playTimes: number;
  /** IVR: the key the callee presses, reported with "completed" ("" or absent: none). */
  readonly pressedKey?: string | undefined;
}

/** A call placed before a restart, as the store remembers it (resume.ts). */
export interface ResumeCallRequest {
  readonly callId: string;
  readonly providerCallId: string;
  /**
   * The stored, masked number: it keeps the last four digits in clear (core/phone.ts
   * maskPhone), which is all the script is chosen by.
   */
  readonly phoneNumber: string;
  readonly playTimes: number;
  /** The call's stored state: callbacks up to this state were delivered already. */
  readonly reached: CallState;
  /** As PlaceCallRequest.pressedKey. */
  readonly pressedKey?: string | undefined;
}

export interface SandboxNetwork {
  /** Schedules the call's callbacks; throws once the network is closed. */
  placeCall(request: PlaceCallRequest): void;
  /**
   * Schedules what is left of a call's script after a restart: the callbacks for states
   * beyond `reached`, each after its scripted delay counted from now. Returns false (and schedules
   * nothing) when this network is still playing that call or nothing is left; throws
   * once the network is closed.
   */
  resumeCall(request: ResumeCallRequest): boolean;
  /** Scripted callbacks not yet acknowledged or given up. */
  readonly pendingCount: number;
  /** Resolves when pendingCount reaches zero (or the network closes). */
  idle(): Promise<void>;
  /** Cancels every scheduled and in-flight callback. */
  close(): void;
}

export class SandboxDeliveryError extends Error {
  override readonly name = "SandboxDeliveryError";

  constructor(
    readonly providerCallId: string,
    readonly event: SandboxEvent,
    readonly attempt: number,
    readonly willRetry: boolean,
    cause: unknown,
  ) {
    super(`sandbox callback ${event} for ${providerCallId}: attempt ${attempt} failed${willRetry ? ", will retry" : ", giving up"}`, {
      cause,
    });
  }
}

interface Step {
  readonly event: SandboxEvent;
  readonly code: string;
  readonly text: string;
  readonly delayMs: number;
}

interface ActiveCall {
  readonly callId: string;
  readonly providerCallId: string;
  readonly pressedKey: string | undefined;
  /** When the "answered" step fired, for the "completed" push's duration. */
  answeredAtMs: number | undefined;
  readonly steps: readonly Step[];
  index: number;
  /** Built when a step first fires; retries resend it unchanged, as a real retry would. */
  body: string | undefined;
  attempt: number;
  cancel: (() => void) | undefined;
}

const MAX_RETRY_DELAY_MS = 60_000;

export function createSandboxNetwork(options: SandboxNetworkOptions): SandboxNetwork {
  const scheduler = options.scheduler ?? createRealtimeScheduler();
  const stepDelayMs = options.stepDelayMs ?? 800;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  const now = options.now ?? Date.now;
  const post = {
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.requestTimeoutMs ?? 5000,
    cancel: new AbortController(),
  };

  const calls = new Set<ActiveCall>();
  let pending = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  const wakeIfIdle = (): void => {
    if (pending > 0 && !closed) return;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };

  const report = (error: SandboxDeliveryError): void => {
    try {
      options.onDeliveryError?.(error);
    } catch {
      // A faulty observer must not stall the carrier.
    }
  };

  const scheduleStep = (call: ActiveCall, delayMs: number): void => {
    call.cancel = scheduler.schedule(delayMs, () => fire(call));
  };

  const advance = (call: ActiveCall): void => {
    pending--;
    call.index++;
    call.body = undefined;
    call.attempt = 0;
    const next = call.steps[call.index];
    if (next === undefined) calls.delete(call);
    else scheduleStep(call, next.delayMs);
    wakeIfIdle();
  };

  const fire = async (call: ActiveCall): Promise<void> => {
    call.cancel = undefined;
    const step = call.steps[call.index];
    if (closed || step === undefined) return;
    call.body ??= JSON.stringify(callbackBody(call, step, now()));
    call.attempt++;
    try {
      const url = options.callbackUrl();
      if (url === undefined) throw new Error("no callback URL yet");
      await postCallback(url, call.body, { ...post, cancel: post.cancel.signal });
    } catch (cause) {
      if (closed) return;
      const willRetry = call.attempt < maxAttempts;
      report(new SandboxDeliveryError(call.providerCallId, step.event, call.attempt, willRetry, cause));
      if (willRetry) {
        scheduleStep(call, Math.min(retryDelayMs * 2 ** (call.attempt - 1), MAX_RETRY_DELAY_MS));
        return;
      }
      // Given up, like a real carrier: this push is lost, the call's later ones still go.
    }
    if (!closed) advance(call);
  };

  const start = (
    request: { readonly callId: string; readonly providerCallId: string; readonly pressedKey?: string | undefined },
    steps: readonly Step[],
  ): boolean => {
    const first = steps[0];
    if (first === undefined) return false;
    const call: ActiveCall = {
      callId: request.callId,
      providerCallId: request.providerCallId,
      pressedKey: request.pressedKey,
      answeredAtMs: undefined,
      steps,
      index: 0,
      body: undefined,
      attempt: 0,
      cancel: undefined,
    };
    calls.add(call);
    pending += steps.length;
    scheduleStep(call, first.delayMs);
    return true;
  };

  return {
    placeCall(request) {
      if (closed) throw new Error("sandbox network is closed");
      start(request, scriptFor(request.phoneNumber, request.playTimes, stepDelayMs));
    },
    resumeCall(request) {
      if (closed) throw new Error("sandbox network is closed");
      for (const call of calls) if (call.callId === request.callId) return false;
      const rank = stateRank(request.reached);
      const steps = scriptFor(request.phoneNumber, request.playTimes, stepDelayMs).filter(
        (step) => stateRank(stateForEvent(step.event)) > rank,
      );
      return start(request, steps);
    },
    get pendingCount() {
      return pending;
    },
    idle() {
      if (pending === 0 || closed) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      if (closed) return;
      closed = true;
      for (const call of calls) call.cancel?.();
      calls.clear();
      post.cancel.abort(new Error("sandbox network closed"));
      pending = 0;
      wakeIfIdle();
    },
  };
}

function scriptFor(phoneNumber: string, playTimes: number, stepDelayMs: number): Step[] {
  return scenarioFor(phoneNumber).callbacks.map((c) => ({
    event: c.event,
    code: c.status.code,
    text: c.status.text,
    delayMs: (c.afterSteps + (c.perPlay === true ? playTimes : 0)) * stepDelayMs,
  }));
}

function callbackBody(call: ActiveCall, step: Step, atMs: number): SandboxCallback {
  const body: SandboxCallback = {
    callId: call.providerCallId,
    userData: call.callId,
    event: step.event,
    code: step.code,
    text: step.text,
    timestamp: new Date(atMs).toISOString(),
  };
  if (step.event === "answered") call.answeredAtMs = atMs;
  if (step.event !== "completed") return body;
  // The script's own timing, not the clock's: with a manual scheduler (tests) the clock
  // barely moves, and the duration should still say how long the callee listened.
  const durationSeconds = Math.max(1, Math.round(step.delayMs / 1000));
  return {
    ...body,
    ...(call.pressedKey === undefined || call.pressedKey === "" ? {} : { pressedKey: call.pressedKey }),
    durationSeconds,
    answeredAt: new Date(call.answeredAtMs ?? atMs - durationSeconds * 1000).toISOString(),
  };
}
