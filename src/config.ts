/**
 * All configuration, from the environment, parsed once at start-up. A bad value stops
 * the process with every bad variable listed, not just the first.
 */
import fs from "node:fs";
import { z } from "zod";
import type { GrpcConnectionSettings } from "./api/grpc/connection-age.js";
import { type KeyEntry, parseKeysFile, parseKeysVariable } from "./auth/keys.js";
import type { LimitsConfig } from "./core/limits.js";
import { countOrOff, countries, numberLimits, prefixes } from "./limits-config.js";
import { PROVIDER_MODULES } from "./providers/index.js";
import type { ProviderModule, ProviderSetup } from "./providers/module.js";
import { parseRoutes } from "./routing/parse-routes.js";
import type { Route } from "./routing/route-table.js";
import { MIN_SECRET_BYTES } from "./secrets/keyring.js";
import { type SecretSource, secretFileFor } from "./secrets/server-secret.js";
import type { SweepSettings } from "./sweep/start-sweepers.js";
import type { TracingConfig } from "./telemetry/tracing.js";
import { type TlsFiles, type TlsMaterial, readTlsMaterial } from "./tls/read-material.js";

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
  /** gRPC connections older than this are retired (GOAWAY) so a mesh can rebalance; 0: never. */
  VOICECODE_GRPC_MAX_CONNECTION_AGE_MS: z.coerce.number().int().min(0).max(30 * 86_400_000).default(1_800_000),
  /** How long a retired connection's calls (watches included) may run before it is closed. */
  VOICECODE_GRPC_MAX_CONNECTION_AGE_GRACE_MS: positiveMs.default(30_000),
  /** Where providers reach the webhook port; the sandbox posts here. */
  VOICECODE_WEBHOOK_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  VOICECODE_DB_PATH: z.string().min(1).default("./data/voicecode.db"),
  /** Run the SQLite store on a thread of its own (src/store/sqlite/thread): see docs/configuration.md. */
  VOICECODE_SQLITE_THREAD: boolean.default(false),
  /** postgres://...: use PostgreSQL (several replicas) instead of SQLite at VOICECODE_DB_PATH. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  VOICECODE_PG_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** Period of the catch-up read that delivers events whose NOTIFY was lost. */
  VOICECODE_PG_CATCHUP_MS: z.coerce.number().int().min(10).max(3_600_000).default(2000),
  VOICECODE_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  VOICECODE_DEFAULT_PROVIDER: z.string().min(1).default("sandbox"),
  VOICECODE_PROVIDER_TIMEOUT_MS: positiveMs.default(10_000),
  VOICECODE_SHUTDOWN_GRACE_MS: positiveMs.default(15_000),
  /** How long a call watch waits for the precise reason after a provisional failure. */
  VOICECODE_REFINE_GRACE_MS: positiveMs.default(5_000),
  /** A call not terminal this long after Send is recorded FAILED UNKNOWN, provisional. */
  VOICECODE_CALL_DEADLINE_MS: z.coerce.number().int().min(1000).max(30 * 86_400_000).default(8 * 3_600_000),
  /** Period of the deadline sweeper. */
  VOICECODE_DEADLINE_SWEEP_MS: z.coerce.number().int().min(10).max(3_600_000).default(60_000),
  /** Days an ended call (its events and pushes) is kept; 0 keeps it forever. */
  VOICECODE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
  /** Days a parked push (for a call never known) is kept; 0 keeps it forever. */
  VOICECODE_PARKED_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(7),
  /** Period of the retention sweeper. */
  VOICECODE_RETENTION_SWEEP_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  /** Calls (and parked pushes) deleted per retention transaction. */
  VOICECODE_RETENTION_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  VOICECODE_SANDBOX_ENABLED: boolean.default(true),
  /** Delay between the sandbox's simulated call steps. */
  VOICECODE_SANDBOX_STEP_MS: positiveMs.default(800),
  /** Secret in the sandbox's callback path; random per start when unset. */
  VOICECODE_SANDBOX_WEBHOOK_TOKEN: z.string().min(16).regex(/^[A-Za-z0-9_-]+$/).optional(),
  /** Routing table: "+861=kingsoft,tencent;+86=tencent,huawei" or its JSON form. */
  VOICECODE_ROUTES: z.string().optional(),
  /** A JSON file holding the routing table (with outcome-fallback options). */
  VOICECODE_ROUTES_FILE: z.string().optional(),
  /** Consecutive provider-side failures that open a provider's circuit breaker. */
  VOICECODE_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  /** How long an open breaker skips its provider before one probe request. */
  VOICECODE_BREAKER_COOLDOWN_MS: positiveMs.default(30_000),
  /** "tencent=20,kingsoft=50": requests per second per provider (overrides documented defaults; 0 = unlimited). */
  VOICECODE_PROVIDER_RATE_LIMITS: z
    .string()
    .regex(/^\s*[a-z0-9_-]+\s*=\s*\d+(\s*,\s*[a-z0-9_-]+\s*=\s*\d+)*\s*$/, 'must be "<provider>=<per second>,..."')
    .optional(),
  /** Longest a routed Send waits for a provider's rate limit before trying the next one. */
  VOICECODE_RATE_LIMIT_WAIT_MS: positiveMs.default(200),
  /** Pause between an attempt's failure and the outcome-fallback attempt. */
  VOICECODE_FALLBACK_DELAY_MS: positiveMs.default(0),
  /** How often each process looks for decided fallback attempts nobody placed. */
  VOICECODE_FALLBACK_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).default(2_000),
  /** Key of every keyed hash we store; generated beside the SQLite file when unset. */
  VOICECODE_SERVER_SECRET: z
    .string()
    .refine((v) => Buffer.byteLength(v, "utf8") >= MIN_SECRET_BYTES, {
      message: `must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 48)`,
    })
    .optional(),
  /** API keys: "tenant=sha256:<hex>" entries, comma or newline separated (docs/callers.md). */
  VOICECODE_API_KEYS: z.string().optional(),
  /** A file of "tenant sha256:<hex>" lines; re-read on change (revocation without restart). */
  VOICECODE_API_KEYS_FILE: z.string().min(1).optional(),
  /** Per destination number, across all tenants: COUNT/WINDOW list, or off. */
  VOICECODE_NUMBER_LIMITS: numberLimits.default([
    { max: 1, windowMs: 60_000, label: "1m" },
    { max: 5, windowMs: 3_600_000, label: "1h" },
    { max: 10, windowMs: 86_400_000, label: "1d" },
  ]),
  VOICECODE_TENANT_RATE_PER_SECOND: countOrOff.default(10),
  VOICECODE_TENANT_DAILY_CAP: countOrOff.default(10_000),
  VOICECODE_ALLOWED_COUNTRIES: countries.default(["86"]),
  VOICECODE_DENIED_PREFIXES: prefixes.default([]),
  /** false: /metrics is not served on the API port (keep it internal). */
  VOICECODE_METRICS_ON_API_PORT: boolean.default(true),
  /** PEM certificate chain and key: the gRPC and API ports serve TLS (both or neither). */
  VOICECODE_TLS_CERT_FILE: z.string().min(1).optional(),
  VOICECODE_TLS_KEY_FILE: z.string().min(1).optional(),
  /** PEM CA bundle: clients must present a certificate it signed (mTLS). */
  VOICECODE_TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
  /** How often the TLS files are re-read for a rotated certificate. */
  VOICECODE_TLS_RELOAD_MS: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
  // OpenTelemetry's standard variables (what the OTel operator and collectors' docs set):
  // tracing is on when either endpoint is set. The base one gets /v1/traces appended.
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default("voicecode"),
});

/** Every variable the server itself reads (providers list theirs in PROVIDER_MODULES). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

/**
 * Every rate, cap and destination check off: for tests and benchmarks that send to one
 * number again and again (their own tests cover the limits with the real defaults).
 */
export const NO_LIMITS_ENV: Readonly<Record<string, string>> = {
  VOICECODE_NUMBER_LIMITS: "off",
  VOICECODE_TENANT_RATE_PER_SECOND: "off",
  VOICECODE_TENANT_DAILY_CAP: "off",
  VOICECODE_ALLOWED_COUNTRIES: "*",
};

export interface Config {
  readonly host: string;
  readonly grpcPort: number;
  readonly apiPort: number;
  readonly webhookPort: number;
  /** Max connection age on the gRPC port (src/api/grpc/connection-age.ts). */
  readonly grpcConnections: GrpcConnectionSettings;
  readonly webhookPublicUrl: string | undefined;
  readonly dbPath: string;
  /** The SQLite store on its own thread instead of the event loop's. */
  readonly sqliteThread: boolean;
  /** Where the server secret (key of the stored keyed hashes) comes from. */
  readonly serverSecret: SecretSource;
  /** PostgreSQL instead of SQLite when set. */
  readonly postgres:
    | { readonly url: string; readonly poolSize: number; readonly catchUpMs: number }
    | undefined;
  readonly logLevel: string;
  readonly defaultProvider: string;
  readonly providerTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly refineGraceMs: number;
  /** Deadline expiry and retention (src/sweep/). */
  readonly sweeps: SweepSettings;
  readonly sandbox: {
    readonly enabled: boolean;
    readonly stepMs: number;
    readonly webhookToken: string | undefined;
  };
  readonly routing: {
    /** Undefined: no table; every Send goes to its named or the default provider. */
    readonly routes: readonly Route[] | undefined;
    readonly breakerFailures: number;
    readonly breakerCooldownMs: number;
    /** Requests per second per provider; absent = unlimited. */
    readonly rateLimits: Readonly<Record<string, number>>;
    readonly rateLimitWaitMs: number;
    readonly fallbackPollMs: number;
    readonly fallbackDelayMs: number;
  };
  /** Real providers with any variable set; absent ones are not listed. */
  readonly providers: readonly ProviderEntry[];
  /** Callers' keys; none at all (no variable, no file): open, one tenant "default". */
  readonly auth: { readonly entries: readonly KeyEntry[]; readonly file: string | undefined };
  readonly limits: LimitsConfig;
  readonly metricsOnApiPort: boolean;
  /** TLS on the gRPC and API ports; plaintext (a mesh sidecar terminates TLS) when unset. */
  readonly tls: TlsConfig | undefined;
  /** OpenTelemetry spans over OTLP/HTTP; off when undefined. */
  readonly tracing: TracingConfig | undefined;
}

export interface TlsConfig {
  readonly files: TlsFiles;
  /** What the files held at start-up (checked; the process does not start otherwise). */
  readonly initial: TlsMaterial;
  readonly reloadMs: number;
}

/** A real provider whose variables are set: usable ("ready") or reported ("incomplete"). */
export interface ProviderEntry {
  readonly name: string;
  readonly setup: Extract<ProviderSetup, { status: "ready" | "incomplete" }>;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly string[] };

export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  modules: readonly ProviderModule[] = PROVIDER_MODULES,
): ConfigResult {
  // Empty variables count as unset: `FOO= cmd` is how people clear one.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(present);
  const errors = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  const providers: ProviderEntry[] = [];
  for (const module of modules) {
    const setup = module.configure(present);
    if (setup.status === "invalid") errors.push(...setup.errors);
    else if (setup.status !== "absent") providers.push({ name: module.name, setup });
  }
  if (
    present.DATABASE_URL !== undefined &&
    present.VOICECODE_SERVER_SECRET === undefined
  ) {
    // Every replica must hash with the same key, and the database is no place for it.
    errors.push("VOICECODE_SERVER_SECRET: required with DATABASE_URL (the same value on every replica)");
  }
  errors.push(...keyErrors(present.VOICECODE_API_KEYS, present.VOICECODE_API_KEYS_FILE));
  // Checked even when other variables are bad, so one start lists every mistake.
  const defaultProblem = defaultProviderProblem(present, parsed.data?.VOICECODE_SANDBOX_ENABLED, modules, providers);
  if (defaultProblem !== undefined) errors.push(`VOICECODE_DEFAULT_PROVIDER: ${defaultProblem}`);
  const routable = [
    ...(parsed.data?.VOICECODE_SANDBOX_ENABLED === false ? [] : ["sandbox"]),
    ...providers.filter((p) => p.setup.status === "ready").map((p) => p.name),
  ];
  const routes = parseRoutes({ inline: present.VOICECODE_ROUTES, file: present.VOICECODE_ROUTES_FILE }, routable);
  if (!routes.ok) errors.push(...routes.errors);
  const rateLimits = providerRateLimits(modules, parsed.data?.VOICECODE_PROVIDER_RATE_LIMITS, routable);
  errors.push(...rateLimits.errors);
  const tls = tlsSettings(present);
  if (!tls.ok) errors.push(...tls.errors);
  if (!parsed.success || !routes.ok || !tls.ok || errors.length > 0) return { ok: false, errors };
  const e = parsed.data;
  const config: Config = {
    host: e.VOICECODE_HOST,
    grpcPort: e.VOICECODE_GRPC_PORT,
    apiPort: e.VOICECODE_API_PORT,
    webhookPort: e.VOICECODE_WEBHOOK_PORT,
    grpcConnections: {
      maxAgeMs: e.VOICECODE_GRPC_MAX_CONNECTION_AGE_MS === 0 ? undefined : e.VOICECODE_GRPC_MAX_CONNECTION_AGE_MS,
      maxAgeGraceMs: e.VOICECODE_GRPC_MAX_CONNECTION_AGE_GRACE_MS,
    },
    webhookPublicUrl: e.VOICECODE_WEBHOOK_PUBLIC_URL?.replace(/\/+$/, ""),
    dbPath: e.VOICECODE_DB_PATH,
    sqliteThread: e.VOICECODE_SQLITE_THREAD,
    serverSecret: secretSource(e.VOICECODE_SERVER_SECRET, e.DATABASE_URL, e.VOICECODE_DB_PATH),
    postgres:
      e.DATABASE_URL === undefined
        ? undefined
        : {
            url: e.DATABASE_URL,
            poolSize: e.VOICECODE_PG_POOL_SIZE,
            catchUpMs: e.VOICECODE_PG_CATCHUP_MS,
          },
    logLevel: e.VOICECODE_LOG_LEVEL,
    defaultProvider: e.VOICECODE_DEFAULT_PROVIDER,
    providerTimeoutMs: e.VOICECODE_PROVIDER_TIMEOUT_MS,
    shutdownGraceMs: e.VOICECODE_SHUTDOWN_GRACE_MS,
    refineGraceMs: e.VOICECODE_REFINE_GRACE_MS,
    sweeps: {
      callDeadlineMs: e.VOICECODE_CALL_DEADLINE_MS,
      deadlineSweepMs: e.VOICECODE_DEADLINE_SWEEP_MS,
      retention: {
        callDays: e.VOICECODE_RETENTION_DAYS,
        parkedDays: e.VOICECODE_PARKED_RETENTION_DAYS,
        sweepMs: e.VOICECODE_RETENTION_SWEEP_MS,
        batchSize: e.VOICECODE_RETENTION_BATCH,
      },
    },
    sandbox: {
      enabled: e.VOICECODE_SANDBOX_ENABLED,
      stepMs: e.VOICECODE_SANDBOX_STEP_MS,
      webhookToken: e.VOICECODE_SANDBOX_WEBHOOK_TOKEN,
    },
    routing: {
      routes: routes.routes,
      breakerFailures: e.VOICECODE_BREAKER_FAILURES,
      breakerCooldownMs: e.VOICECODE_BREAKER_COOLDOWN_MS,
      rateLimits: rateLimits.limits,
      rateLimitWaitMs: e.VOICECODE_RATE_LIMIT_WAIT_MS,
      fallbackPollMs: e.VOICECODE_FALLBACK_POLL_MS,
      fallbackDelayMs: e.VOICECODE_FALLBACK_DELAY_MS,
    },
    providers,
    auth: {
      entries: e.VOICECODE_API_KEYS === undefined ? [] : parseKeysVariable(e.VOICECODE_API_KEYS).entries,
      file: e.VOICECODE_API_KEYS_FILE,
    },
    limits: {
      number: e.VOICECODE_NUMBER_LIMITS,
      tenantPerSecond: e.VOICECODE_TENANT_RATE_PER_SECOND ?? undefined,
      tenantDaily: e.VOICECODE_TENANT_DAILY_CAP ?? undefined,
      allowedCountries: e.VOICECODE_ALLOWED_COUNTRIES,
      deniedPrefixes: e.VOICECODE_DENIED_PREFIXES,
    },
    metricsOnApiPort: e.VOICECODE_METRICS_ON_API_PORT,
    tls: tls.ok && tls.settings !== undefined ? { ...tls.settings, reloadMs: e.VOICECODE_TLS_RELOAD_MS } : undefined,
    tracing: tracingConfig(e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, e.OTEL_EXPORTER_OTLP_ENDPOINT, e.OTEL_SERVICE_NAME),
  };
  return { ok: true, config: Object.freeze(config) };
}

/** Every bad key entry, in the variable and in the file (read once here to validate it). */
function keyErrors(variable: string | undefined, file: string | undefined): string[] {
  const errors: string[] = [];
  if (variable !== undefined) {
    errors.push(...parseKeysVariable(variable).errors.map((e) => `VOICECODE_API_KEYS: ${e}`));
  }
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      errors.push(`VOICECODE_API_KEYS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (text !== undefined) {
      errors.push(...parseKeysFile(text).errors.map((e) => `VOICECODE_API_KEYS_FILE: ${e}`));
    }
  }
  return errors;
}

/**
 * Why the default provider cannot route calls, or undefined when it can (or when its own
 * bad variables are already reported). Three different fixes, so three messages: a name
 * no module has (a typo), a known provider with none of its variables set, and one with
 * some set but not all.
 */
function defaultProviderProblem(
  env: Readonly<Record<string, string | undefined>>,
  sandboxEnabled: boolean | undefined,
  modules: readonly ProviderModule[],
  providers: readonly ProviderEntry[],
): string | undefined {
  const name = env.VOICECODE_DEFAULT_PROVIDER ?? "sandbox";
  const known = ["sandbox", ...modules.map((m) => m.name)];
  const usable = () =>
    [...(sandboxEnabled === true ? ["sandbox"] : []), ...providers.filter((p) => p.setup.status === "ready").map((p) => p.name)]
      .join(", ") || "none";
  if (!known.includes(name)) return `"${name}" is not a provider of this build; known: ${known.join(", ")}`;
  if (name === "sandbox") {
    // undefined: VOICECODE_SANDBOX_ENABLED is itself bad and already listed.
    return sandboxEnabled === false ? `"sandbox" is disabled (VOICECODE_SANDBOX_ENABLED); usable: ${usable()}` : undefined;
  }
  const entry = providers.find((p) => p.name === name);
  if (entry === undefined) {
    // Some variables set yet no entry: they are invalid, and their own errors say what to fix.
    if (modules.find((m) => m.name === name)?.envVars.some((v) => env[v] !== undefined)) return undefined;
    return `"${name}" is not configured (none of its variables is set; see docs/providers.md); usable: ${usable()}`;
  }
  if (entry.setup.status === "incomplete") {
    return `"${name}" cannot be used: its configuration is incomplete (missing ${entry.setup.missing.join(", ")})`;
  }
  return undefined;
}

function tracingConfig(
  tracesEndpoint: string | undefined,
  baseEndpoint: string | undefined,
  serviceName: string,
): TracingConfig | undefined {
  if (tracesEndpoint !== undefined) return { endpoint: tracesEndpoint, serviceName };
  if (baseEndpoint !== undefined) return { endpoint: `${baseEndpoint.replace(/\/+$/, "")}/v1/traces`, serviceName };
  return undefined;
}

/** The TLS files, read and checked once here so a bad one stops the start (exit 78). */
function tlsSettings(
  env: Readonly<Record<string, string | undefined>>,
):
  | { ok: true; settings: { files: TlsFiles; initial: TlsMaterial } | undefined }
  | { ok: false; errors: readonly string[] } {
  const certFile = env.VOICECODE_TLS_CERT_FILE;
  const keyFile = env.VOICECODE_TLS_KEY_FILE;
  const clientCaFile = env.VOICECODE_TLS_CLIENT_CA_FILE;
  if (certFile === undefined && keyFile === undefined) {
    return clientCaFile === undefined
      ? { ok: true, settings: undefined }
      : { ok: false, errors: ["VOICECODE_TLS_CLIENT_CA_FILE: requires VOICECODE_TLS_CERT_FILE and VOICECODE_TLS_KEY_FILE"] };
  }
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? "VOICECODE_TLS_CERT_FILE" : "VOICECODE_TLS_KEY_FILE";
    return { ok: false, errors: [`${missing}: required with ${certFile === undefined ? "VOICECODE_TLS_KEY_FILE" : "VOICECODE_TLS_CERT_FILE"} (both or neither)`] };
  }
  const files: TlsFiles = { certFile, keyFile, clientCaFile };
  const read = readTlsMaterial(files);
  return read.ok ? { ok: true, settings: { files, initial: read.material } } : { ok: false, errors: read.errors };
}

function secretSource(configured: string | undefined, databaseUrl: string | undefined, dbPath: string): SecretSource {
  if (configured !== undefined) return { kind: "configured", value: configured };
  if (databaseUrl === undefined && dbPath !== ":memory:") return { kind: "file", path: secretFileFor(dbPath) };
  return { kind: "ephemeral" };
}

/** The documented defaults of the provider modules, overridden per provider (0 = unlimited). */
function providerRateLimits(
  modules: readonly ProviderModule[],
  overrides: string | undefined,
  usable: readonly string[],
): { limits: Record<string, number>; errors: string[] } {
  const limits: Record<string, number> = {};
  for (const module of modules) {
    if (module.requestsPerSecond !== undefined) limits[module.name] = module.requestsPerSecond;
  }
  const errors: string[] = [];
  for (const entry of overrides?.split(",") ?? []) {
    const [name = "", value = ""] = entry.split("=").map((part) => part.trim());
    if (!usable.includes(name)) {
      errors.push(`VOICECODE_PROVIDER_RATE_LIMITS: "${name}" is not a usable provider; usable: ${usable.join(", ")}`);
      continue;
    }
    const perSecond = Number(value);
    if (perSecond === 0) delete limits[name];
    else limits[name] = perSecond;
  }
  return { limits, errors };
}
