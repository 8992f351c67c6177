import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { redactUrl } from "../src/storage.js";

const SECRET = "a-test-server-secret-of-at-least-32-bytes";

describe("PostgreSQL configuration", () => {
  it("uses SQLite unless DATABASE_URL is set", () => {
    const r = parseConfig({});
    expect(r.ok && r.config.postgres).toBeUndefined();
  });

  it("takes a postgres:// or postgresql:// DATABASE_URL with pool and catch-up defaults", () => {
    for (const url of ["postgres://u:p@db:5432/vc", "postgresql://db/vc"]) {
      const r = parseConfig({ DATABASE_URL: url, VOICECODE_SERVER_SECRET: SECRET });
      expect(r.ok && r.config.postgres).toEqual({ url, poolSize: 10, catchUpMs: 2000 });
    }
    const tuned = parseConfig({
      DATABASE_URL: "postgres://db/vc",
      VOICECODE_SERVER_SECRET: SECRET,
      VOICECODE_PG_POOL_SIZE: "4",
      VOICECODE_PG_CATCHUP_MS: "500",
    });
    expect(tuned.ok && tuned.config.postgres).toMatchObject({ poolSize: 4, catchUpMs: 500 });
  });

  it("rejects other schemes and bad numbers without echoing the URL", () => {
    const r = parseConfig({
      DATABASE_URL: "mysql://user:hunter2@db/vc",
      VOICECODE_SERVER_SECRET: SECRET,
      VOICECODE_PG_POOL_SIZE: "0",
      VOICECODE_PG_CATCHUP_MS: "soon",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.split(":")[0]).sort()).toEqual([
      "DATABASE_URL",
      "VOICECODE_PG_CATCHUP_MS",
      "VOICECODE_PG_POOL_SIZE",
    ]);
    expect(r.errors.join("\n")).not.toContain("hunter2");
  });

  it("requires a shared server secret with PostgreSQL, and never echoes it", () => {
    const missing = parseConfig({ DATABASE_URL: "postgres://db/vc" });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.errors).toEqual([expect.stringMatching(/^VOICECODE_SERVER_SECRET: required with DATABASE_URL/)]);
    const short = parseConfig({ DATABASE_URL: "postgres://db/vc", VOICECODE_SERVER_SECRET: "hunter2-too-short" });
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.errors.join("\n")).not.toContain("hunter2");
    const ok = parseConfig({ DATABASE_URL: "postgres://db/vc", VOICECODE_SERVER_SECRET: SECRET });
    expect(ok.ok && ok.config.serverSecret).toEqual({ kind: "configured", value: SECRET });
  });

  it("never logs the password", () => {
    expect(redactUrl("postgres://vc:hunter2@db:5432/vc")).toBe("postgres://vc:***@db:5432/vc");
    expect(redactUrl("postgres://db/vc")).toBe("postgres://db/vc");
  });
});
