import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createTestCa } from "../support/certs.js";

const ca = createTestCa();
const server = ca.server("server");
const other = ca.server("other");
afterAll(() => ca.remove());

function errorsOf(env: Record<string, string>): readonly string[] {
  const result = parseConfig(env);
  return result.ok ? [] : result.errors;
}

describe("TLS configuration", () => {
  it("is plaintext when no TLS variable is set", () => {
    const result = parseConfig({});
    expect(result.ok && result.config.tls).toBeUndefined();
  });

  it("reads and keeps the certificate, key and client CA", () => {
    const result = parseConfig({
      VOICECODE_TLS_CERT_FILE: server.certFile,
      VOICECODE_TLS_KEY_FILE: server.keyFile,
      VOICECODE_TLS_CLIENT_CA_FILE: ca.caFile,
      VOICECODE_TLS_RELOAD_MS: "500",
    });
    if (!result.ok) throw new Error(result.errors.join("; "));
    expect(result.config.tls?.initial.cert.equals(server.cert)).toBe(true);
    expect(result.config.tls?.initial.ca?.equals(ca.ca)).toBe(true);
    expect(result.config.tls?.reloadMs).toBe(500);
  });

  it("wants the certificate and key together, and the client CA only with them", () => {
    expect(errorsOf({ VOICECODE_TLS_CERT_FILE: server.certFile })).toEqual([
      "VOICECODE_TLS_KEY_FILE: required with VOICECODE_TLS_CERT_FILE (both or neither)",
    ]);
    expect(errorsOf({ VOICECODE_TLS_KEY_FILE: server.keyFile })[0]).toMatch(/^VOICECODE_TLS_CERT_FILE: required/);
    expect(errorsOf({ VOICECODE_TLS_CLIENT_CA_FILE: ca.caFile })[0]).toMatch(/^VOICECODE_TLS_CLIENT_CA_FILE: requires/);
  });

  it("lists every unreadable or unparseable file, and a key that is not the certificate's", () => {
    const garbage = join(ca.dir, "garbage.pem");
    writeFileSync(garbage, "not a certificate\n");
    expect(
      errorsOf({
        VOICECODE_TLS_CERT_FILE: join(ca.dir, "missing.crt"),
        VOICECODE_TLS_KEY_FILE: garbage,
        VOICECODE_TLS_CLIENT_CA_FILE: garbage,
      }),
    ).toEqual([
      `VOICECODE_TLS_CERT_FILE: cannot read ${join(ca.dir, "missing.crt")} (ENOENT)`,
      `VOICECODE_TLS_KEY_FILE: ${garbage} is not a PEM private key (or it is encrypted)`,
      `VOICECODE_TLS_CLIENT_CA_FILE: ${garbage} is not a PEM certificate`,
    ]);
    const key = join(ca.dir, "other-copy.key");
    copyFileSync(other.keyFile, key);
    expect(errorsOf({ VOICECODE_TLS_CERT_FILE: server.certFile, VOICECODE_TLS_KEY_FILE: key })).toEqual([
      `VOICECODE_TLS_KEY_FILE: ${key} is not the key of the certificate in ${server.certFile}`,
    ]);
  });
});
