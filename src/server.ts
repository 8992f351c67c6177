/**
 * The composition root: builds every part from the config and the edges it is given,
 * starts the three listeners, and knows the shutdown order. main.ts adds only the
 * process concerns (env, signals, exit codes); tests call this directly on port 0.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { type Authenticator, createAuthenticator } from "./auth/authenticator.js";
import { createApiServer } from "./api/http-server.js";
import { createConnectRoutes } from "./api/connect/routes.js";
import { grpcConnectionOptions } from "./api/grpc/connection-age.js";
import { createGrpcServer } from "./api/grpc/server.js";
import { type Health, createHealth } from "./api/health.js";
import type { Bus } from "./bus/bus.js";
import type { Config } from "./config.js";
import type { Provider } from "./core/provider.js";
import { createFallbackDispatcher } from "./core/fallback-dispatcher.js";
import { FailureReason } from "./core/model.js";
import { createProviderRegistry } from "./core/providers.js";
import { type VoiceCodeService, createVoiceCodeService } from "./core/service.js";
import { createWebhookServer } from "./ingress/webhook-server.js";
import { type Metrics, createMetrics } from "./metrics.js";
import { createSandboxProvider } from "./providers/sandbox/index.js";
import { type SandboxNetwork, createSandboxNetwork } from "./providers/sandbox/network.js";
import { resumeSandboxCalls } from "./providers/sandbox/resume.js";
import { FALLBACK_DEFAULTS } from "./routing/parse-routes.js";
import { createRouteTable } from "./routing/route-table.js";
import { createRouter } from "./routing/router.js";
import { createKeyring } from "./secrets/keyring.js";
import { loadServerSecret } from "./secrets/server-secret.js";
import { openStorage } from "./storage.js";
import type { Store } from "./store/store.js";
import { startSweepers } from "./sweep/start-sweepers.js";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { tracedStore } from "./telemetry/traced-store.js";
import { createTracing } from "./telemetry/tracing.js";
import { grpcServerCredentials } from "./tls/grpc-credentials.js";
import { startTls, tlsMode } from "./tls/start-tls.js";
import type { SweepTimers } from "./sweep/timers.js";
import type { CodeGenerator } from "./verify/code.js";

export interface StartOptions {
  readonly config: Config;
  readonly logger: Logger;
  /**
   * Default: PostgreSQL at config.postgres.url when set, else SQLite at config.dbPath. A
   * store given here must use the keyring of the configured server secret: it keys the
   * fingerprints and compares Check codes with it (a store under another secret answers
   * every Check WRONG_CODE).
   */
  readonly store?: Store;
  /**
   * The sandbox's simulated carrier. Default: one in this process, posting to this
   * server's webhook port. Tests pass their own so it outlives a restart.
   */
  readonly sandboxNetwork?: SandboxNetwork;
  readonly metrics?: Metrics;
  /** The clock of Send, ingest and the sweepers. Default Date.now. */
  readonly now?: () => number;
  /** Timers of the deadline and retention sweepers. Default: real, unref'd timers. */
  readonly sweepTimers?: SweepTimers;
  /** Tests: spans go here (tracing on whatever the config says). */
  readonly spanExporter?: SpanExporter;
  /** Draws generated verification codes. Default: the CSPRNG; tests wrap it to hear the codes. */
  readonly generateCode?: CodeGenerator;
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly apiPort: number;
  readonly webhookPort: number;
  /** The URL (with its secret token) the sandbox posts its callbacks to. */
  readonly sandboxCallbackUrl: string | undefined;
  /** Providers offered for routing; the default first. */
  readonly providers: readonly string[];
  /** Who may call; `open` when no keys are configured (one tenant, "default"). */
  readonly authenticator: Authenticator;
  readonly service: VoiceCodeService;
  readonly store: Store;
  readonly bus: Bus;
  readonly health: Health;
  /** Graceful stop; idempotent. */
  stop(): Promise<void>;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? createMetrics();
  // Before the store: it needs the keyring to key fingerprints stored before the upgrade.
  const secret = loadServerSecret(config.serverSecret);
  const keyring = createKeyring(secret);
  const tracing = createTracing({ config: config.tracing, exporter: options.spanExporter });
  const storage = await openStorage(config, logger, { keyring, secret }, options.store);
  const { bus } = storage;
  // Every store call a child span of the request's (only when tracing is on: no cost otherwise).
  const store = tracing.enabled ? tracedStore(storage.store) : storage.store;
  const health = createHealth();

  const sandboxToken = config.sandbox.webhookToken ?? randomBytes(24).toString("base64url");
  let sandboxCallbackUrl: string | undefined;
  const ownNetwork = options.sandboxNetwork === undefined && config.sandbox.enabled;
  const providers: Provider[] = [];
  let network: SandboxNetwork | undefined;
  if (config.sandbox.enabled) {
    network =
      options.sandboxNetwork ??
      createSandboxNetwork({
        callbackUrl: () => sandboxCallbackUrl,
        stepDelayMs: config.sandbox.stepMs,
        onDeliveryError: (err) =>
          logger.warn({ component: "sandbox", err: String(err) }, "sandbox callback not delivered"),
      });
    providers.push(createSandboxProvider({ network }));
  }
  const tokens = new Map<string, string>([["sandbox", sandboxToken]]);
  for (const { name, setup } of config.providers) {
    if (setup.status === "incomplete") {
      logger.warn({ provider: name, missing: setup.missing }, "provider not offered: configuration incomplete");
      continue;
    }
    providers.push(
      setup.create({ webhookPublicUrl: config.webhookPublicUrl, logger: logger.child({ provider: name }) }),
    );
    tokens.set(name, setup.webhookToken);
    logger.info({ provider: name, ...setup.summary }, "provider configured");
  }
  const registry = createProviderRegistry(providers, config.defaultProvider);

  const authLog = logger.child({ component: "auth" });
  const authenticator = createAuthenticator({
    entries: config.auth.entries,
    file: config.auth.file,
    onReload: (keys) => authLog.info({ keys }, "API keys loaded"),
    onReloadError: (problem) => authLog.error({ problem }, "API keys file not reloaded; previous keys stay in force"),
  });
  if (authenticator.open) {
    authLog.warn(
      { tenant: "default" },
      "no API keys configured: anyone who reaches the gRPC or API port can place calls (set VOICECODE_API_KEYS or VOICECODE_API_KEYS_FILE)",
    );
  } else {
    authLog.info({ tenants: authenticator.tenants }, "API keys required");
  }

  const routingLog = logger.child({ component: "routing" });
  const router = createRouter({
    registry,
    table: config.routing.routes === undefined ? undefined : createRouteTable(config.routing.routes),
    breaker: { failureThreshold: config.routing.breakerFailures, cooldownMs: config.routing.breakerCooldownMs },
    rateLimits: config.routing.rateLimits,
    maxRateWaitMs: config.routing.rateLimitWaitMs,
    defaultFallback: {
      on: FALLBACK_DEFAULTS.on.map((name) => FailureReason[name]),
      maxAttempts: FALLBACK_DEFAULTS.maxAttempts,
      deadlineMs: FALLBACK_DEFAULTS.deadlineMs,
    },
    now,
    onBreakerChange: (provider, state) => {
      metrics.routing.breakerState(provider, state);
      // Logged once per change, not per skipped request.
      routingLog[state === "open" ? "warn" : "info"]({ provider, breaker: state }, "provider circuit breaker changed");
    },
  });
  for (const name of registry.names) metrics.routing.breakerState(name, "closed");
  if (config.routing.routes !== undefined) {
    routingLog.info({ routes: config.routing.routes.map((r) => `${r.prefix}=${r.providers.join(",")}`) }, "routing table");
  }

  const service = createVoiceCodeService({
    store,
    bus,
    providers: registry,
    router,
    keyring,
    logger,
    metrics: metrics.core,
    providerTimeoutMs: config.providerTimeoutMs,
    refineGraceMs: config.refineGraceMs,
    now,
    limits: config.limits,
    generateCode: options.generateCode,
  });

  const webhooks = createWebhookServer({
    routes: providers.map((provider) => ({
      provider,
      token: tokens.get(provider.name) ?? "",
    })),
    store,
    bus,
    logger,
    metrics: metrics.webhook,
    now,
  });
  const tls = startTls(config.tls, logger);
  const grpc = createGrpcServer({
    handlers: service,
    health,
    logger,
    authenticator,
    options: grpcConnectionOptions(config.grpcConnections),
    credentials: tls === undefined ? undefined : grpcServerCredentials(tls),
  });
  const api = createApiServer({
    tls,
    routes: createConnectRoutes(service, logger, authenticator),
    health,
    metrics: config.metricsOnApiPort ? metrics : undefined,
    logger,
  });

  let webhookPort: number;
  let grpcPort: number;
  let apiPort: number;
  try {
    webhookPort = await webhooks.listen(config.host, config.webhookPort);
    const base = config.webhookPublicUrl ?? `http://127.0.0.1:${webhookPort}`;
    sandboxCallbackUrl = config.sandbox.enabled ? `${base}/webhooks/sandbox/${sandboxToken}` : undefined;
    grpcPort = await grpc.listen(config.host, config.grpcPort);
    apiPort = await api.listen(config.host, config.apiPort);
  } catch (err) {
    // A port in use: release what did start, so an embedding process (or a test) is
    // left with no listener, connection or timer of ours.
    grpc.forceClose();
    api.forceClose();
    tls?.close();
    webhooks.forceClose();
    await webhooks.close();
    await Promise.all(providers.map((p) => p.close?.()));
    if (ownNetwork) await network?.close();
    await storage.closeBus();
    if (options.store === undefined) await store.close();
    await tracing.shutdown();
    throw err;
  }
  if (network !== undefined) {
    try {
      const resumed = await resumeSandboxCalls({ store, network });
      if (resumed > 0) logger.info({ component: "sandbox", resumed }, "sandbox calls resumed after a restart");
    } catch (err) {
      // Not fatal: those calls still end, at their deadline.
      logger.warn({ component: "sandbox", err: String(err) }, "sandbox calls not resumed");
    }
  }
  // After listening: an expiry is published to watchers like any event.
  const sweepers = startSweepers({
    store,
    bus,
    logger,
    settings: config.sweeps,
    now,
    timers: options.sweepTimers,
  });
  const fallbacks = createFallbackDispatcher({
    store,
    bus,
    router,
    registry,
    keyring,
    logger,
    metrics: metrics.core,
    providerTimeoutMs: config.providerTimeoutMs,
    now,
    pollMs: config.routing.fallbackPollMs,
    limits: config.limits,
    delayMs: config.routing.fallbackDelayMs,
  });
  // After listening: a fallback attempt's callbacks need the webhook port.
  fallbacks.start();
  health.setServing(true);
  logger.info(
    { grpcPort, apiPort, webhookPort, providers: registry.names, db: storage.description, tls: tlsMode(config) },
    "voicecode listening",
  );

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    health.setServing(false);
    // First: a sweep or a fallback placement in flight finishes before the store closes.
    await Promise.all([sweepers.stop(), fallbacks.stop()]);
    const graceful = (async () => {
      // Order matters: end watches and finish Sends before the transports wait for
      // their calls to end, and keep the webhook port up until the Sends are done.
      await service.drain();
      await Promise.all([grpc.drain(), api.drain()]);
      await webhooks.close();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), config.shutdownGraceMs);
      timer.unref();
    });
    const result = await Promise.race([graceful.then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      logger.warn({ graceMs: config.shutdownGraceMs }, "shutdown grace expired; closing connections");
      grpc.forceClose();
      api.forceClose();
      webhooks.forceClose();
      await webhooks.close();
    }
    tls?.close();
    await Promise.all(providers.map((p) => p.close?.()));
    if (ownNetwork) await network?.close();
    await storage.closeBus();
    await store.close();
    await tracing.shutdown();
    logger.info("voicecode stopped");
  }

  return {
    grpcPort,
    apiPort,
    webhookPort,
    sandboxCallbackUrl,
    providers: [
      config.defaultProvider,
      ...registry.names.filter((name) => name !== config.defaultProvider),
    ],
    authenticator,
    service,
    store,
    bus,
    health,
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
