import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { redactUrl } from "../src/storage.js";

describe("PostgreSQL configuration", () => {
  it("uses SQLite unless DATABASE_URL is set", () => {
    const r = parseConfig({});
    expect(r.ok && r.config.postgres).toBeUndefined();
  });

  it("takes a postgres:// or postgresql:// DATABASE_URL with pool and catch-up defaults", () => {
    for (const url of ["postgres://u:p@db:5432/vc", "postgresql://db/vc"]) {
      const r = parseConfig({ DATABASE_URL: url });
      expect(r.ok && r.config.postgres).toEqual({ url, poolSize: 10, catchUpMs: 2000 });
    }
    const tuned = parseConfig({
      DATABASE_URL: "postgres://db/vc",
      VOICECODE_PG_POOL_SIZE: "4",
      VOICECODE_PG_CATCHUP_MS: "500",
    });
    expect(tuned.ok && tuned.config.postgres).toMatchObject({ poolSize: 4, catchUpMs: 500 });
  });

  it("rejects other schemes and bad numbers without echoing the URL", () => {
    const r = parseConfig({
      DATABASE_URL: "mysql://user:hunter2@db/vc",
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

  it("never logs the password", () => {
    expect(redactUrl("postgres://vc:hunter2@db:5432/vc")).toBe("postgres://vc:***@db:5432/vc");
    expect(redactUrl("postgres://db/vc")).toBe("postgres://db/vc");
  });
});
