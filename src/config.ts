/**
 * All configuration, from the environment, parsed once at start-up. A bad value stops
 * the process with every bad variable listed, not just the first.
 */
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const boolean = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const positiveMs = z.coerce.number().int().min(0).max(3_600_000);

const EnvSchema = z.object({
  VOICECODE_HOST: z.string().min(1).default("0.0.0.0"),
  VOICECODE_GRPC_PORT: port.default(50051),
  VOICECODE_API_PORT: port.default(8080),
  VOICECODE_WEBHOOK_PORT: port.default(8081),
  /** Where providers reach the webhook port; the sandbox posts here. */
  VOICECODE_WEBHOOK_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  VOICECODE_DB_PATH: z.string().min(1).default("./data/voicecode.db"),
  VOICECODE_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  VOICECODE_DEFAULT_PROVIDER: z.string().min(1).default("sandbox"),
  VOICECODE_PROVIDER_TIMEOUT_MS: positiveMs.default(10_000),
  VOICECODE_SHUTDOWN_GRACE_MS: positiveMs.default(15_000),
  VOICECODE_SANDBOX_ENABLED: boolean.default(true),
  /** Delay between the sandbox's simulated call steps. */
  VOICECODE_SANDBOX_STEP_MS: positiveMs.default(800),
  /** Secret in the sandbox's callback path; random per start when unset. */
  VOICECODE_SANDBOX_WEBHOOK_TOKEN: z.string().min(16).regex(/^[A-Za-z0-9_-]+$/).optional(),
});

export interface Config {
  readonly host: string;
  readonly grpcPort: number;
  readonly apiPort: number;
  readonly webhookPort: number;
  readonly webhookPublicUrl: string | undefined;
  readonly dbPath: string;
  readonly logLevel: string;
  readonly defaultProvider: string;
  readonly providerTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly sandbox: {
    readonly enabled: boolean;
    readonly stepMs: number;
    readonly webhookToken: string | undefined;
  };
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly string[] };

export function parseConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  // Empty variables count as unset: `FOO= cmd` is how people clear one.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    };
  }
  const e = parsed.data;
  const config: Config = {
    host: e.VOICECODE_HOST,
    grpcPort: e.VOICECODE_GRPC_PORT,
    apiPort: e.VOICECODE_API_PORT,
    webhookPort: e.VOICECODE_WEBHOOK_PORT,
    webhookPublicUrl: e.VOICECODE_WEBHOOK_PUBLIC_URL?.replace(/\/+$/, ""),
    dbPath: e.VOICECODE_DB_PATH,
    logLevel: e.VOICECODE_LOG_LEVEL,
    defaultProvider: e.VOICECODE_DEFAULT_PROVIDER,
    providerTimeoutMs: e.VOICECODE_PROVIDER_TIMEOUT_MS,
    shutdownGraceMs: e.VOICECODE_SHUTDOWN_GRACE_MS,
    sandbox: {
      enabled: e.VOICECODE_SANDBOX_ENABLED,
      stepMs: e.VOICECODE_SANDBOX_STEP_MS,
      webhookToken: e.VOICECODE_SANDBOX_WEBHOOK_TOKEN,
    },
  };
  return { ok: true, config: Object.freeze(config) };
}
