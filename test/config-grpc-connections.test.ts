import { describe, expect, it } from "vitest";
import { grpcConnectionOptions } from "../src/api/grpc/connection-age.js";
import { CONFIG_VARIABLES, parseConfig } from "../src/config.js";

describe("gRPC connection age", () => {
  it("recycles connections after 30 minutes with a 30 s grace by default", () => {
    const r = parseConfig({});
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.grpcConnections).toEqual({ maxAgeMs: 1_800_000, maxAgeGraceMs: 30_000 });
    expect(grpcConnectionOptions(r.config.grpcConnections)).toEqual({
      "grpc.max_connection_age_ms": 1_800_000,
      "grpc.max_connection_age_grace_ms": 30_000,
    });
  });

  it("0 turns recycling off: no option reaches grpc-js (whose 0 would mean at once)", () => {
    const r = parseConfig({ VOICECODE_GRPC_MAX_CONNECTION_AGE_MS: "0" });
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.grpcConnections.maxAgeMs).toBeUndefined();
    expect(grpcConnectionOptions(r.config.grpcConnections)).toEqual({});
  });

  it("refuses negative and non-integer ages, naming each variable", () => {
    const r = parseConfig({
      VOICECODE_GRPC_MAX_CONNECTION_AGE_MS: "-1",
      VOICECODE_GRPC_MAX_CONNECTION_AGE_GRACE_MS: "1.5",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.split(":")[0]).sort()).toEqual([
      "VOICECODE_GRPC_MAX_CONNECTION_AGE_GRACE_MS",
      "VOICECODE_GRPC_MAX_CONNECTION_AGE_MS",
    ]);
  });

  it("lists the variables among the ones the server reads", () => {
    expect(CONFIG_VARIABLES).toContain("VOICECODE_GRPC_MAX_CONNECTION_AGE_MS");
    expect(CONFIG_VARIABLES).toContain("VOICECODE_GRPC_MAX_CONNECTION_AGE_GRACE_MS");
    expect(CONFIG_VARIABLES).toContain("DATABASE_URL");
  });
});
