import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { GetCallResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { Bus } from "../bus/bus.js";
import { FALLBACK_DEFAULTS } from "../routing/parse-routes.js";
import { type Router, createRouter } from "../routing/router.js";
import type { Keyring } from "../secrets/keyring.js";
import type { Store } from "../store/store.js";
import { createDeadlines } from "../streams/deadlines.js";
import { createWatchDrain } from "../streams/drain.js";
import { watchEvents } from "../streams/watch-events.js";
import { type WatchContext, openWatch } from "../streams/watch.js";
import { StatusSink, toWatchResponse } from "./watch-status-sink.js";
import { VoiceCodeError, notFound } from "./errors.js";
import { FailureReason } from "./model.js";
import type { VoiceCodeHandlers } from "./handlers.js";
import { DEFAULT_LIMITS, type LimitsConfig } from "./limits.js";
import { type CoreMetrics, noopCoreMetrics, sendOutcomeLabel } from "./metrics.js";
import type { ProviderRegistry } from "./providers.js";
import { notify } from "./notify.js";
import { defaultCallId, send } from "./send.js";
import { attemptsToProto, callToProto, eventToProto } from "./to-proto.js";
import { checkCallId } from "./validate-fields.js";
import { validateWatch } from "./validate-watch.js";
import { check } from "../verify/check.js";
import { type CodeGenerator, defaultCodeGenerator } from "../verify/code.js";

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
  /** Rates, caps and destination policy for Send. Default DEFAULT_LIMITS (the documented defaults). */
  readonly limits?: LimitsConfig;
  /** Draws generated verification codes. Default: the CSPRNG (src/verify/code.ts). */
  readonly generateCode?: CodeGenerator;
}

export interface VoiceCodeService extends VoiceCodeHandlers {
  /**
   * Starts draining: open watches end with UNAVAILABLE (clients resume elsewhere with
   * after_sequence), new Sends are refused; resolves when in-flight Sends have finished.
   */
  drain(): Promise<void>;
  readonly inFlightSends: number;
}

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
    limits: options.limits ?? DEFAULT_LIMITS,
    generateCode: options.generateCode ?? defaultCodeGenerator,
  };
  let draining = false;
  const inFlight = new Set<Promise<unknown>>();
  // Thrown by drain(): one Set entry per open watch (its wake-up), not a signal each.
  const watchDrain = createWatchDrain();
  // What every watch shares, one object: a watch keeps only a reference to it.
  const watchContext: WatchContext = {
    store: deps.store,
    bus: deps.bus,
    drain: watchDrain,
    refineGraceMs: options.refineGraceMs ?? 5_000,
    now: deps.now,
    // One timer for every watch waiting out a refine grace period.
    deadlines: createDeadlines(deps.now),
  };

  /** Draining refusal, in-flight tracking and the Send metrics, for Send and Notify alike. */
  async function counted<R extends Parameters<typeof sendOutcomeLabel>[0] & { readonly provider: string }>(
    provider: string,
    tenant: string,
    run: () => Promise<R>,
  ): Promise<R> {
    if (draining) {
      throw new VoiceCodeError("UNAVAILABLE", "server is draining; retry on another replica");
    }
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const pending = run();
    inFlight.add(pending);
    try {
      const response = await pending;
      metrics.sendFinished(response.provider, sendOutcomeLabel(response), tenant, seconds());
      return response;
    } catch (err) {
      // Invalid requests are the caller's mistake, not a Send outcome worth a series.
      if (!(err instanceof VoiceCodeError) || err.code === "INTERNAL") {
        metrics.sendFinished(provider || "default", "ERROR", tenant, seconds());
      }
      throw err;
    } finally {
      inFlight.delete(pending);
    }
  }

  return {
    send(request, _signal, caller) {
      return counted(request.provider, caller.tenant, () => send(deps, request, caller));
    },

    notify(request, _signal, caller) {
      return counted(request.provider, caller.tenant, () => notify(deps, request, caller));
    },

    async getCall(request, _signal, caller) {
      const callId = checkCallId(request.callId);
      const call = await deps.store.getCall(callId);
      // Another tenant's call is answered exactly like an unknown id: its existence is
      // not something a caller may learn.
      if (call === undefined || call.tenant !== caller.tenant) throw notFound("call_id", "no such call");
      const events = await deps.store.listEvents({ callId }, 0, Number.MAX_SAFE_INTEGER);
      const attempts = attemptsToProto(await deps.store.listAttempts(callId), events);
      return create(GetCallResponseSchema, {
        call: callToProto(call, attempts),
        events: events.map(eventToProto),
      });
    },

    async *watchStatus(request, signal, caller) {
      const { target, afterSequence } = validateWatch(request, caller.tenant);
      metrics.watchOpened(caller.tenant);
      try {
        for await (const event of watchEvents({ ...watchContext, target, afterSequence, signal })) {
          yield toWatchResponse(event);
        }
      } finally {
        metrics.watchClosed(caller.tenant);
      }
    },

    pushWatchStatus(request, caller, sink) {
      const { target, afterSequence } = validateWatch(request, caller.tenant);
      metrics.watchOpened(caller.tenant);
      return openWatch(watchContext, target, afterSequence, new StatusSink(sink, metrics, caller.tenant));
    },

    check(request, _signal, caller) {
      return check(deps, request, caller);
    },

    async drain() {
      draining = true;
      watchDrain.start();
      await Promise.allSettled([...inFlight]);
    },

    get inFlightSends() {
      return inFlight.size;
    },
  };
}
