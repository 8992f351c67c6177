/**
 * Places the next attempt of calls whose last attempt ended with a fallback reason.
 * The decision itself was made durably by the store, in the transaction that recorded
 * the failure (a row per decided attempt, unique per call); this dispatcher only claims
 * such rows (exactly once across replicas) and places them. A crash between the
 * callback and the placement leaves the row, and the next start (or another replica's
 * poll) places it. A crash after the claim leaves the attempt PENDING: its provider may
 * or may not have been asked, so nobody asks again (the call deadline ends it).
 */
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import type { Keyring } from "../secrets/keyring.js";
import { LimitExceeded, type Store } from "../store/store.js";
import { untried } from "./attempts.js";
import { type LimitsConfig, limitRules } from "./limits.js";
import type { ProviderRegistry } from "./providers.js";
import { type PlaceDeps, type PlaceRequest, placeAttempts } from "./place-attempts.js";
import type { Provider } from "./provider.js";

export interface FallbackDispatcherOptions extends PlaceDeps {
  readonly registry: ProviderRegistry;
  readonly keyring: Keyring;
  readonly logger: Logger;
  /** How often to look for decided attempts that no live process placed (ms). */
  readonly pollMs: number;
  /**
   * How long after the failure the next attempt is placed (ms): a person who was busy a
   * moment ago is unlikely to answer at once. 0: at once.
   */
  readonly delayMs: number;
  readonly bus: Bus;
  readonly store: Store;
  /** The per-number limits also count fallback attempts. */
  readonly limits: LimitsConfig;
}

export interface FallbackDispatcher {
  /** Places every due attempt now; resolves when done (tests call it directly). */
  runOnce(): Promise<number>;
  start(): void;
  /** Stops polling and waits for the placements in flight. */
  stop(): Promise<void>;
}

const BATCH = 20;

export function createFallbackDispatcher(options: FallbackDispatcherOptions): FallbackDispatcher {
  const log = options.logger.child({ component: "fallback" });
  let running: Promise<number> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let stopped = false;

  async function placeOne(callId: string, attempt: number): Promise<boolean> {
    const memo = await options.store.loadFallbackRequest(callId);
    const opened = memo === undefined ? undefined : options.keyring.open("fallback-request", memo.sealedRequest);
    const request = opened === undefined ? undefined : (JSON.parse(opened) as PlaceRequest);
    const tried = (await options.store.listAttempts(callId)).map((a) => a.provider);
    const candidates: Provider[] = [];
    if (memo !== undefined && request !== undefined) {
      for (const name of untried(memo.route, tried)) {
        const provider = options.registry.get(name);
        if (provider !== undefined && provider.check?.({ callId, ...request }) === undefined) candidates.push(provider);
      }
    }
    const acquired = await options.router.acquire(candidates);
    const alog = log.child({ callId, attempt });
    const now = options.now();
    // The phone rings again: the number's limits count this attempt as they count a Send
    // (tenant rates and caps count Sends, not attempts).
    const limits =
      request === undefined
        ? []
        : limitRules(options.limits, options.keyring, "", request.phoneNumber).filter((r) => r.key.startsWith("n:"));
    let result: Awaited<ReturnType<Store["startFallback"]>>;
    try {
      result = await options.store.startFallback(callId, attempt, acquired.provider?.name, now, { limits });
    } catch (err) {
      if (!(err instanceof LimitExceeded) || memo === undefined) throw err;
      if (acquired.provider !== undefined) options.router.release(acquired.provider.name);
      const allowedAt = now + err.retryAfterMs;
      if (allowedAt <= (memo.route.fallback?.deadlineAtMs ?? now)) {
        // Held, not dropped: due again when the number may ring again.
        await options.store.postponeFallback(callId, attempt, allowedAt - options.delayMs);
        alog.info({ reason: err.rule.reason, retryAfterMs: err.retryAfterMs }, "fallback attempt held by a per-number limit");
        return false;
      }
      const ended = await options.store.startFallback(callId, attempt, undefined, now, {
        endText: `no other attempt before the fallback deadline: per-number limit ${err.rule.reason}`,
      });
      if (ended.applied !== undefined) options.bus.publish(ended.applied.events);
      alog.info({ reason: err.rule.reason }, "fallback attempt refused by a per-number limit; call ended");
      return false;
    }
    if (result.applied !== undefined) options.bus.publish(result.applied.events);
    if (!result.claimed || acquired.provider === undefined || request === undefined) {
      if (acquired.provider !== undefined) options.router.release(acquired.provider.name);
      if (result.claimed) alog.warn({ skipped: acquired.skipped }, "no provider left for the fallback attempt; call ended");
      return false;
    }
    alog.info({ provider: acquired.provider.name }, "outcome fallback: placing the next attempt");
    await placeAttempts(options, {
      callId,
      tenant: result.applied?.call.tenant ?? "default",
      attempt,
      provider: acquired.provider,
      candidates,
      tried: [...tried, acquired.provider.name],
      failover: true,
      request,
      log: alog,
    });
    return true;
  }

  async function drainDue(): Promise<number> {
    let placed = 0;
    do {
      again = false;
      for (const due of await options.store.dueFallbacks(BATCH, options.now() - options.delayMs)) {
        try {
          if (await placeOne(due.callId, due.attempt)) placed++;
        } catch (err) {
          log.error({ callId: due.callId, err: err instanceof Error ? err.message : String(err) }, "fallback attempt failed");
        }
      }
    } while (again && !stopped);
    return placed;
  }

  function runOnce(): Promise<number> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = drainDue().finally(() => {
      running = undefined;
    });
    return running;
  }

  const kick = () => {
    if (!stopped) void runOnce();
  };

  return {
    runOnce,
    start() {
      stopped = false;
      unsubscribe = options.bus.subscribe((notice) => {
        if (notice.continues === true) kick();
      });
      timer = setInterval(kick, options.pollMs);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
