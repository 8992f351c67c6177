import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { createSandboxProvider, createSandboxNetwork } from "../src/providers/sandbox/index.js";
import { readProviderEnv } from "../src/providers/configure.js";
import type { ProviderModule } from "../src/providers/module.js";
import { z } from "zod";

/** A provider module shaped like the real ones: two required variables, one optional. */
const acme: ProviderModule = {
  name: "acme",
  envVars: ["ACME_KEY", "ACME_TOKEN", "ACME_PORT"],
  configure(env) {
    const r = readProviderEnv(env, {
      required: ["ACME_KEY", "ACME_TOKEN"],
      optional: ["ACME_PORT"],
      schema: z.object({ ACME_KEY: z.string(), ACME_TOKEN: z.string(), ACME_PORT: z.coerce.number().int().optional() }),
    });
    if (r.status !== "ok") return r;
    return {
      status: "ready",
      webhookToken: r.data.ACME_TOKEN,
      summary: { port: String(r.data.ACME_PORT ?? "") },
      create: () =>
        createSandboxProvider({ network: createSandboxNetwork({ callbackUrl: () => undefined, stepDelayMs: 1 }) }),
    };
  },
};

describe("parseConfig", () => {
  it("has working defaults", () => {
    const r = parseConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ grpcPort: 50051, apiPort: 8080, webhookPort: 8081, defaultProvider: "sandbox" });
    expect(Object.isFrozen(r.config)).toBe(true);
  });

  it("runs the SQLite store on the event loop's thread unless VOICECODE_SQLITE_THREAD says otherwise", () => {
    const off = parseConfig({});
    const on = parseConfig({ VOICECODE_SQLITE_THREAD: "true" });
    expect(off.ok && off.config.sqliteThread).toBe(false);
    expect(on.ok && on.config.sqliteThread).toBe(true);
    const bad = parseConfig({ VOICECODE_SQLITE_THREAD: "sometimes" });
    expect(bad.ok ? [] : bad.errors.map((e) => e.split(":")[0])).toEqual(["VOICECODE_SQLITE_THREAD"]);
  });

  it("lists every bad variable, not just the first", () => {
    const r = parseConfig({
      VOICECODE_GRPC_PORT: "seventy",
      VOICECODE_API_PORT: "70000",
      VOICECODE_SANDBOX_ENABLED: "maybe",
      VOICECODE_WEBHOOK_PUBLIC_URL: "ftp://x",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const vars = r.errors.map((e) => e.split(":")[0]);
    expect(vars).toEqual(
      expect.arrayContaining([
        "VOICECODE_GRPC_PORT",
        "VOICECODE_API_PORT",
        "VOICECODE_SANDBOX_ENABLED",
        "VOICECODE_WEBHOOK_PUBLIC_URL",
      ]),
    );
    expect(r.errors).toHaveLength(4);
  });

  it("treats empty variables as unset", () => {
    const r = parseConfig({ VOICECODE_GRPC_PORT: "" });
    expect(r.ok && r.config.grpcPort).toBe(50051);
  });

  it("defaults the call deadline above Huawei's hourly CDR re-sends, and retention to 90 and 7 days", () => {
    const r = parseConfig({});
    expect(r.ok && r.config.sweeps).toEqual({
      callDeadlineMs: 8 * 3_600_000,
      deadlineSweepMs: 60_000,
      retention: { callDays: 90, parkedDays: 7, sweepMs: 3_600_000, batchSize: 500 },
    });
    const set = parseConfig({
      VOICECODE_CALL_DEADLINE_MS: "120000",
      VOICECODE_DEADLINE_SWEEP_MS: "5000",
      VOICECODE_RETENTION_DAYS: "0",
      VOICECODE_PARKED_RETENTION_DAYS: "1",
      VOICECODE_RETENTION_SWEEP_MS: "60000",
      VOICECODE_RETENTION_BATCH: "50",
    });
    expect(set.ok && set.config.sweeps).toEqual({
      callDeadlineMs: 120_000,
      deadlineSweepMs: 5_000,
      retention: { callDays: 0, parkedDays: 1, sweepMs: 60_000, batchSize: 50 },
    });
  });

  it("lists every bad deadline and retention variable", () => {
    const r = parseConfig({
      VOICECODE_CALL_DEADLINE_MS: "10",
      VOICECODE_DEADLINE_SWEEP_MS: "soon",
      VOICECODE_RETENTION_DAYS: "-1",
      VOICECODE_PARKED_RETENTION_DAYS: "1.5",
      VOICECODE_RETENTION_SWEEP_MS: "0",
      VOICECODE_RETENTION_BATCH: "0",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.split(":")[0]).sort()).toEqual([
      "VOICECODE_CALL_DEADLINE_MS",
      "VOICECODE_DEADLINE_SWEEP_MS",
      "VOICECODE_PARKED_RETENTION_DAYS",
      "VOICECODE_RETENTION_BATCH",
      "VOICECODE_RETENTION_DAYS",
      "VOICECODE_RETENTION_SWEEP_MS",
    ]);
  });

  describe("real providers", () => {
    it("does not list a provider none of whose variables is set", () => {
      const r = parseConfig({}, [acme]);
      expect(r.ok && r.config.providers).toEqual([]);
    });

    it("lists an incomplete provider with what is missing, and still starts", () => {
      const r = parseConfig({ ACME_KEY: "k" }, [acme]);
      expect(r.ok && r.config.providers).toEqual([
        { name: "acme", setup: { status: "incomplete", missing: ["ACME_TOKEN"] } },
      ]);
    });

    it("reports a provider's bad value together with the other bad variables", () => {
      const r = parseConfig({ ACME_KEY: "k", ACME_TOKEN: "t", ACME_PORT: "x", VOICECODE_GRPC_PORT: "-1" }, [acme]);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errors.map((e) => e.split(":")[0]).sort()).toEqual(["ACME_PORT", "VOICECODE_GRPC_PORT"]);
    });

    it("offers a complete provider, also as the default", () => {
      const r = parseConfig(
        { ACME_KEY: "k", ACME_TOKEN: "t", VOICECODE_DEFAULT_PROVIDER: "acme", VOICECODE_SANDBOX_ENABLED: "false" },
        [acme],
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.config.providers.map((p) => [p.name, p.setup.status])).toEqual([["acme", "ready"]]);
    });

    it("refuses a default provider whose configuration is incomplete, naming what is missing", () => {
      const incomplete = parseConfig({ ACME_KEY: "k", VOICECODE_DEFAULT_PROVIDER: "acme" }, [acme]);
      expect(incomplete.ok || incomplete.errors).toEqual([
        'VOICECODE_DEFAULT_PROVIDER: "acme" cannot be used: its configuration is incomplete (missing ACME_TOKEN)',
      ]);
    });

    it("tells an unknown provider name (no such module) from a known one that is not configured", () => {
      const unknown = parseConfig({ VOICECODE_DEFAULT_PROVIDER: "nope" }, [acme]);
      expect(unknown.ok || unknown.errors).toEqual([
        'VOICECODE_DEFAULT_PROVIDER: "nope" is not a provider of this build; known: sandbox, acme',
      ]);
      const unconfigured = parseConfig({ VOICECODE_DEFAULT_PROVIDER: "acme" }, [acme]);
      expect(unconfigured.ok || unconfigured.errors).toEqual([
        'VOICECODE_DEFAULT_PROVIDER: "acme" is not configured (none of its variables is set; see docs/providers.md); usable: sandbox',
      ]);
      const disabled = parseConfig({ VOICECODE_SANDBOX_ENABLED: "no" }, [acme]);
      expect(disabled.ok || disabled.errors).toEqual([
        'VOICECODE_DEFAULT_PROVIDER: "sandbox" is disabled (VOICECODE_SANDBOX_ENABLED); usable: none',
      ]);
    });

    it("lists a bad default provider together with a bad port", () => {
      const r = parseConfig({ VOICECODE_GRPC_PORT: "70000", VOICECODE_DEFAULT_PROVIDER: "nope" }, [acme]);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errors.map((e) => e.split(":")[0])).toEqual(["VOICECODE_GRPC_PORT", "VOICECODE_DEFAULT_PROVIDER"]);
      expect(r.errors[1]).toContain("is not a provider of this build");
    });

    it("does not guess about the sandbox when VOICECODE_SANDBOX_ENABLED itself is bad", () => {
      const r = parseConfig({ VOICECODE_SANDBOX_ENABLED: "maybe" }, [acme]);
      expect(r.ok || r.errors.map((e) => e.split(":")[0])).toEqual(["VOICECODE_SANDBOX_ENABLED"]);
    });

    it("adds nothing for a default provider whose own variables are already reported as bad", () => {
      const r = parseConfig(
        { ACME_KEY: "k", ACME_TOKEN: "t", ACME_PORT: "x", VOICECODE_DEFAULT_PROVIDER: "acme" },
        [acme],
      );
      expect(r.ok || r.errors.map((e) => e.split(":")[0])).toEqual(["ACME_PORT"]);
    });
  });

  it("lists bad routing variables together with any other bad variable", () => {
    const r = parseConfig({
      VOICECODE_GRPC_PORT: "seventy",
      VOICECODE_ROUTES: "+86=tencent",
      VOICECODE_BREAKER_FAILURES: "0",
      VOICECODE_BREAKER_COOLDOWN_MS: "soon",
      VOICECODE_PROVIDER_RATE_LIMITS: "tencent:20",
      VOICECODE_RATE_LIMIT_WAIT_MS: "-1",
      VOICECODE_FALLBACK_POLL_MS: "5",
      VOICECODE_FALLBACK_DELAY_MS: "later",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.split(":")[0]).sort()).toEqual([
      "VOICECODE_BREAKER_COOLDOWN_MS",
      "VOICECODE_BREAKER_FAILURES",
      "VOICECODE_FALLBACK_DELAY_MS",
      "VOICECODE_FALLBACK_POLL_MS",
      "VOICECODE_GRPC_PORT",
      "VOICECODE_PROVIDER_RATE_LIMITS",
      "VOICECODE_RATE_LIMIT_WAIT_MS",
      // tencent is not configured here: the route names an unusable provider.
      "VOICECODE_ROUTES",
    ]);
  });

  it("refuses a rate limit for a provider that is not usable, and both routing sources at once", () => {
    const r = parseConfig({ VOICECODE_PROVIDER_RATE_LIMITS: "nope=5", VOICECODE_ROUTES: "+86=sandbox", VOICECODE_ROUTES_FILE: "/x.json" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^VOICECODE_PROVIDER_RATE_LIMITS: "nope" is not a usable provider/),
        expect.stringMatching(/^VOICECODE_ROUTES: set it or VOICECODE_ROUTES_FILE, not both/),
      ]),
    );
  });

  it("names a bad OpenTelemetry endpoint and does not start", () => {
    const r = parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://x/v1/traces" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.split(":")[0]).sort()).toEqual(["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
  });
});
