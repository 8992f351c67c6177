import { mkdtempSync, readFileSync, statSync, chmodSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createKeyring } from "../../src/secrets/keyring.js";
import { loadServerSecret, secretFileFor } from "../../src/secrets/server-secret.js";

describe("server secret", () => {
  it("is generated once beside the SQLite file, 0600, and read back unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "voicecode-secret-"));
    const file = secretFileFor(join(dir, "data", "voicecode.db"));
    expect(file).toBe(join(dir, "data", "voicecode.secret"));
    const first = loadServerSecret({ kind: "file", path: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadServerSecret({ kind: "file", path: file }).equals(first)).toBe(true);
    expect(readFileSync(file, "utf8").trim()).toBe(first.toString("utf8"));
  });

  it("refuses a secret file others can read", () => {
    const dir = mkdtempSync(join(tmpdir(), "voicecode-secret-"));
    const file = join(dir, "voicecode.secret");
    writeFileSync(file, "x".repeat(64));
    chmodSync(file, 0o644);
    expect(() => loadServerSecret({ kind: "file", path: file })).toThrow(/chmod 600/);
  });
});

describe("keyring", () => {
  it("keys each purpose separately and depends on the secret", () => {
    const a = createKeyring(Buffer.alloc(32, 1));
    const b = createKeyring(Buffer.alloc(32, 2));
    expect(a.hash("phone-number", "+8613711112222")).toMatch(/^k1:[0-9a-f]{64}$/);
    expect(a.hash("phone-number", "+8613711112222")).toBe(a.hash("phone-number", "+8613711112222"));
    expect(a.hash("phone-number", "+8613711112222")).not.toBe(a.hash("request-fingerprint", "+8613711112222"));
    expect(a.hash("phone-number", "+8613711112222")).not.toBe(b.hash("phone-number", "+8613711112222"));
    expect(() => createKeyring(Buffer.alloc(31))).toThrow(/32 bytes/);
  });

  it("seals and opens per purpose and secret; tampering or another key opens nothing", () => {
    const a = createKeyring(Buffer.alloc(32, 1));
    const b = createKeyring(Buffer.alloc(32, 2));
    const sealed = a.seal("fallback-request", '{"to":"+8613711112222","code":"1234"}');
    expect(sealed).toMatch(/^s1:/);
    expect(sealed).not.toContain("1234");
    expect(a.open("fallback-request", sealed)).toBe('{"to":"+8613711112222","code":"1234"}');
    expect(a.seal("fallback-request", "x")).not.toBe(a.seal("fallback-request", "x"));
    expect(b.open("fallback-request", sealed)).toBeUndefined();
    expect(a.open("phone-number", sealed)).toBeUndefined();
    // Flip one bit of the ciphertext itself (a base64 character may only carry padding bits).
    const raw = Buffer.from(sealed.slice(3), "base64url");
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    const flipped = `s1:${raw.toString("base64url")}`;
    expect(a.open("fallback-request", flipped)).toBeUndefined();
    expect(a.open("fallback-request", "s1:")).toBeUndefined();
  });
});
