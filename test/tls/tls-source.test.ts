import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTlsMaterial } from "../../src/tls/read-material.js";
import { createTlsSource } from "../../src/tls/tls-source.js";
import { createTestCa } from "../support/certs.js";

const ca = createTestCa();
const first = ca.server("first");
const second = ca.server("second");
afterAll(() => ca.remove());

/** A source over copies of `first` that never polls by itself (the test calls poll()). */
function sourceOver(name: string) {
  const files = { certFile: join(ca.dir, `${name}.crt`), keyFile: join(ca.dir, `${name}.key`), clientCaFile: undefined };
  copyFileSync(first.certFile, files.certFile);
  copyFileSync(first.keyFile, files.keyFile);
  const initial = readTlsMaterial(files);
  if (!initial.ok) throw new Error(initial.errors.join());
  const reloaded: Buffer[] = [];
  const errors: (readonly string[])[] = [];
  const source = createTlsSource({
    files,
    initial: initial.material,
    pollMs: 3_600_000,
    onReload: (m) => reloaded.push(m.cert),
    onReloadError: (e) => errors.push(e),
  });
  return { files, source, reloaded, errors };
}

describe("TLS files reloaded on change", () => {
  it("applies new files once two polls read the same bytes, and tells subscribers", () => {
    const { files, source, reloaded } = sourceOver("rotate");
    const seen: Buffer[] = [];
    source.subscribe((m) => seen.push(m.cert));
    source.poll();
    expect(reloaded).toEqual([]);
    copyFileSync(second.certFile, files.certFile);
    copyFileSync(second.keyFile, files.keyFile);
    source.poll(); // first sight of the change: may still be half written
    expect(source.current().cert.equals(first.cert)).toBe(true);
    source.poll();
    expect(source.current().cert.equals(second.cert)).toBe(true);
    expect(seen.map((c) => c.equals(second.cert))).toEqual([true]);
    source.poll();
    expect(reloaded).toHaveLength(1);
    source.close();
  });

  it("keeps the previous material on a bad or mismatched set, reports it once, and takes the next good one", () => {
    const { files, source, reloaded, errors } = sourceOver("bad");
    copyFileSync(second.certFile, files.certFile); // the key still the old one
    source.poll();
    source.poll();
    source.poll();
    expect(source.current().cert.equals(first.cert)).toBe(true);
    expect(errors).toEqual([[`VOICECODE_TLS_KEY_FILE: ${files.keyFile} is not the key of the certificate in ${files.certFile}`]]);
    writeFileSync(files.certFile, "garbage");
    source.poll();
    source.poll();
    expect(errors.at(-1)).toEqual([`VOICECODE_TLS_CERT_FILE: ${files.certFile} is not a PEM certificate`]);
    copyFileSync(second.certFile, files.certFile);
    copyFileSync(second.keyFile, files.keyFile);
    source.poll();
    source.poll();
    expect(source.current().cert.equals(second.cert)).toBe(true);
    expect(reloaded).toHaveLength(1);
    source.close();
  });
});
