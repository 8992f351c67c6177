import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hashApiKey } from "../src/auth/keys.js";
import { parseConfig } from "../src/config.js";
import { DEFAULT_LIMITS } from "../src/core/limits.js";

const base = { VOICECODE_DB_PATH: ":memory:" };

describe("callers and limits configuration", () => {
  it("defaults: no keys (open), the documented limits, /metrics on the API port", () => {
    const r = parseConfig(base);
    if (!r.ok) throw new Error(r.errors.join());
    expect(r.config.auth).toEqual({ entries: [], file: undefined });
    expect(r.config.limits).toEqual(DEFAULT_LIMITS);
    expect(r.config.metricsOnApiPort).toBe(true);
  });

  it("parses limits, 'off', countries and prefixes", () => {
    const r = parseConfig({
      ...base,
      VOICECODE_NUMBER_LIMITS: "3/10m, 1/30s",
      VOICECODE_TENANT_RATE_PER_SECOND: "off",
      VOICECODE_TENANT_DAILY_CAP: "500",
      VOICECODE_ALLOWED_COUNTRIES: "86,+852",
      VOICECODE_DENIED_PREFIXES: "+86168,+86170",
      VOICECODE_METRICS_ON_API_PORT: "false",
    });
    if (!r.ok) throw new Error(r.errors.join());
    expect(r.config.limits).toEqual({
      number: [
        { max: 1, windowMs: 30_000, label: "30s" },
        { max: 3, windowMs: 600_000, label: "10m" },
      ],
      tenantPerSecond: undefined,
      tenantDaily: 500,
      allowedCountries: ["86", "852"],
      deniedPrefixes: ["+86168", "+86170"],
    });
    expect(r.config.metricsOnApiPort).toBe(false);
    const off = parseConfig({ ...base, VOICECODE_NUMBER_LIMITS: "off", VOICECODE_ALLOWED_COUNTRIES: "*" });
    expect(off.ok && off.config.limits.number).toEqual([]);
    expect(off.ok && off.config.limits.allowedCountries).toBe("any");
  });

  it("lists every bad variable and every bad key entry", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-cfg-"));
    const file = path.join(dir, "keys");
    fs.writeFileSync(file, "good sha256:00\n");
    const r = parseConfig({
      ...base,
      VOICECODE_API_KEYS: `ok=${hashApiKey("k")},BAD=${hashApiKey("k")}`,
      VOICECODE_API_KEYS_FILE: file,
      VOICECODE_NUMBER_LIMITS: "1/1m,x",
      VOICECODE_TENANT_DAILY_CAP: "0",
      VOICECODE_ALLOWED_COUNTRIES: "china",
      VOICECODE_DENIED_PREFIXES: "86168",
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.ok).toBe(false);
    const text = r.ok ? "" : r.errors.join("\n");
    for (const v of [
      "VOICECODE_API_KEYS: entry 2",
      "VOICECODE_API_KEYS_FILE: line 1",
      "VOICECODE_NUMBER_LIMITS",
      "VOICECODE_TENANT_DAILY_CAP",
      "VOICECODE_ALLOWED_COUNTRIES",
      "VOICECODE_DENIED_PREFIXES",
    ]) {
      expect(text).toContain(v);
    }
  });

  it("refuses a keys file it cannot read", () => {
    const r = parseConfig({ ...base, VOICECODE_API_KEYS_FILE: "/nonexistent/keys" });
    expect(r.ok ? [] : r.errors).toEqual(["VOICECODE_API_KEYS_FILE: cannot read /nonexistent/keys (ENOENT)"]);
  });
});
