/**
 * Starts the real server (all three listeners, real sockets, port 0) with the sandbox's
 * carrier on a manual scheduler, so a test walks call lifecycles step by step.
 */
import { pino } from "pino";
import { afterAll, beforeAll } from "vitest";
import { type Config, NO_LIMITS_ENV, parseConfig } from "../../src/config.js";
import {
  createManualScheduler,
  createSandboxNetwork,
  type ManualScheduler,
  type SandboxNetwork,
} from "../../src/providers/sandbox/index.js";
import { type RunningServer, type StartOptions, startServer } from "../../src/server.js";

export const SANDBOX_TOKEN = "test-sandbox-token-0123456789";

export interface TestServer extends RunningServer {
  readonly grpcUrl: string;
  readonly apiUrl: string;
  readonly webhookUrl: string;
}

export interface Carrier {
  readonly scheduler: ManualScheduler;
  readonly network: SandboxNetwork;
  /** Where the carrier posts; follows the server across restarts. */
  target: string | undefined;
}

/** The simulated provider side; it outlives any one server. */
export function createCarrier(): Carrier {
  const scheduler = createManualScheduler();
  const carrier: { target: string | undefined } = { target: undefined };
  const network = createSandboxNetwork({
    callbackUrl: () => carrier.target,
    scheduler,
    stepDelayMs: 10,
    retryDelayMs: 100,
  });
  return Object.assign(carrier, { scheduler, network });
}

/**
 * Loopback, ports 0, in-memory store, quiet, limits off (the suite sends to the same few
 * numbers again and again; test/e2e/limits.test.ts covers the real defaults); `env` overrides.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  const parsed = parseConfig({
    VOICECODE_HOST: "127.0.0.1",
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    VOICECODE_DB_PATH: ":memory:",
    VOICECODE_LOG_LEVEL: "silent",
    VOICECODE_SANDBOX_WEBHOOK_TOKEN: SANDBOX_TOKEN,
    VOICECODE_SHUTDOWN_GRACE_MS: "5000",
    ...NO_LIMITS_ENV,
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.config;
}

/** `edges`: the clock and sweep timers, for tests that drive deadlines and retention. */
export async function startTestServer(
  carrier: Carrier,
  env: Record<string, string> = {},
  edges: Pick<StartOptions, "now" | "sweepTimers" | "generateCode"> = {},
): Promise<TestServer> {
  const server = await startServer({
    config: testConfig(env),
    logger: pino({ level: "silent" }),
    sandboxNetwork: carrier.network,
    ...edges,
  });
  carrier.target = server.sandboxCallbackUrl;
  return {
    ...server,
    grpcUrl: `http://127.0.0.1:${server.grpcPort}`,
    apiUrl: `http://127.0.0.1:${server.apiPort}`,
    webhookUrl: `http://127.0.0.1:${server.webhookPort}`,
  };
}

/**
 * One server and carrier for a test file: started before its tests, stopped after.
 * Read `.server` / `.carrier` inside tests (they are set once beforeAll has run).
 */
export function useTestServer(env: Record<string, string> = {}): { server: TestServer; carrier: Carrier } {
  const fixture = {} as { server: TestServer; carrier: Carrier };
  beforeAll(async () => {
    fixture.carrier = createCarrier();
    fixture.server = await startTestServer(fixture.carrier, env);
  });
  afterAll(async () => {
    await fixture.server.stop();
    fixture.carrier.network.close();
  });
  return fixture;
}
