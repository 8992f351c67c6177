import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import {
  GetCallResponseSchema,
  WatchStatusResponseSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import type { Bus } from "../bus/bus.js";
import { FALLBACK_DEFAULTS } from "../routing/parse-routes.js";
import { type Router, createRouter } from "../routing/router.js";
import type { Keyring } from "../secrets/keyring.js";
import type { Store } from "../store/store.js";
import { type WatchTarget, watchEvents } from "../streams/watch-events.js";
import { VoiceCodeError, invalidArgument, notFound } from "./errors.js";
import { FailureReason } from "./model.js";
import type { VoiceCodeHandlers } from "./handlers.js";
import { type CoreMetrics, noopCoreMetrics } from "./metrics.js";
import type { ProviderRegistry } from "./providers.js";
import { defaultCallId, send } from "./send.js";
import { attemptsToProto, callToProto, eventToProto } from "./to-proto.js";

export interface VoiceCodeServiceOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly providers: ProviderRegistry;
  /** Default: no routing table (every Send to its named or the default provider). */
  readonly router?: Router;
  /** Keys the hashes stored with calls (request fingerprints). */
  readonly keyring: Keyring;
  readonly logger: Logger;
  readonly metrics?: CoreMetrics;
  /** Upper bound for one provider request (ms). Default 10 000. */
  readonly providerTimeoutMs?: number;
  /** How long a call watch waits for a provisional failure's precise reason (ms). Default 5 000. */
  readonly refineGraceMs?: number;
  readonly now?: () => number;
  readonly newCallId?: () => string;
}

export interface VoiceCodeService extends VoiceCodeHandlers {
  /**
   * Starts draining: open watches end with UNAVAILABLE (clients resume elsewhere with
   * after_sequence), new Sends are refused; resolves when in-flight Sends have finished.
   */
  drain(): Promise<void>;
  readonly inFlightSends: number;
}

const MAX_CALL_ID_CHARS = 64;

export function createVoiceCodeService(options: VoiceCodeServiceOptions): VoiceCodeService {
  const metrics = options.metrics ?? noopCoreMetrics;
  const now = options.now ?? Date.now;
  const deps = {
    store: options.store,
    bus: options.bus,
    router:
      options.router ??
      createRouter({
        registry: options.providers,
        table: undefined,
        breaker: { failureThreshold: 5, cooldownMs: 30_000 },
        rateLimits: {},
        maxRateWaitMs: 0,
        defaultFallback: {
          on: FALLBACK_DEFAULTS.on.map((name) => FailureReason[name]),
          maxAttempts: FALLBACK_DEFAULTS.maxAttempts,
          deadlineMs: FALLBACK_DEFAULTS.deadlineMs,
        },
        now,
      }),
    keyring: options.keyring,
    logger: options.logger,
    metrics,
    providerTimeoutMs: options.providerTimeoutMs ?? 10_000,
    now,
    newCallId: options.newCallId ?? defaultCallId,
  };
  const draining = new AbortController();
  const inFlight = new Set<Promise<unknown>>();

  return {
    async send(request) {
      if (draining.signal.aborted) {
        throw new VoiceCodeError("UNAVAILABLE", "server is draining; retry on another replica");
      }
      const pending = send(deps, request);
      inFlight.add(pending);
      try {
        return await pending;
      } catch (err) {
        if (!(err instanceof VoiceCodeError) || err.code === "INTERNAL") {
          metrics.sendFinished(request.provider || "default", "error");
        }
        throw err;
      } finally {
        inFlight.delete(pending);
      }
    },

    async getCall(request) {
      const callId = checkCallId(request.callId);
      const call = await deps.store.getCall(callId);
      if (call === undefined) throw notFound("call_id", "no such call");
      const events = await deps.store.listEvents({ callId }, 0, Number.MAX_SAFE_INTEGER);
      const attempts = attemptsToProto(await deps.store.listAttempts(callId), events);
      return create(GetCallResponseSchema, {
        call: callToProto(call, attempts),
        events: events.map(eventToProto),
      });
    },

    async *watchStatus(request, signal) {
      const target = watchTarget(request.target);
      const after = request.afterSequence;
      if (after > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw invalidArgument("after_sequence", "out of range");
      }
      metrics.watchOpened();
      try {
        const events = watchEvents({
          store: deps.store,
          bus: deps.bus,
          target,
          afterSequence: Number(after),
          signal,
          drainSignal: draining.signal,
          refineGraceMs: options.refineGraceMs ?? 5_000,
          now: deps.now,
        });
        for await (const event of events) {
          yield create(WatchStatusResponseSchema, { event: eventToProto(event) });
        }
      } finally {
        metrics.watchClosed();
      }
    },

    async drain() {
      draining.abort();
      await Promise.allSettled([...inFlight]);
    },

    get inFlightSends() {
      return inFlight.size;
    },
  };
}

type TargetCase =
  | { case: "callId"; value: string }
  | { case: "clientReference"; value: string }
  | { case: undefined; value?: undefined };

function watchTarget(target: TargetCase): WatchTarget {
  switch (target.case) {
    case "callId":
      return { callId: checkCallId(target.value) };
    case "clientReference":
      if (target.value === "") throw invalidArgument("client_reference", "must not be empty");
      return { clientReference: target.value };
    default:
      throw invalidArgument("target", "set call_id or client_reference");
  }
}

function checkCallId(callId: string): string {
  if (callId === "") throw invalidArgument("call_id", "is required");
  if (callId.length > MAX_CALL_ID_CHARS) throw invalidArgument("call_id", "too long");
  return callId;
}
