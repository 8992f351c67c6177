import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";

describe("parseConfig", () => {
  it("has working defaults", () => {
    const r = parseConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ grpcPort: 50051, apiPort: 8080, webhookPort: 8081, defaultProvider: "sandbox" });
    expect(Object.isFrozen(r.config)).toBe(true);
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
});
