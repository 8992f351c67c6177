/**
 * Throwaway certificates made with the openssl CLI (node:crypto cannot sign X.509): a CA,
 * server certificates for localhost/127.0.0.1 and client certificates, each signed by the CA.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 fingerprint as X509Certificate prints it. */
  readonly fingerprint: string;
}

export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  /** A server certificate (serverAuth, SAN localhost and 127.0.0.1). */
  server(name: string): Pair;
  /** A client certificate (clientAuth). */
  client(name: string): Pair;
  remove(): void;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "pipe" });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function createTestCa(label = "voicecode-test-ca"): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "voicecode-certs-"));
  const caFile = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  openssl([
    "req", "-x509", ...EC, "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", `/CN=${label}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  let serial = 1;
  const issue = (name: string, ext: string): Pair => {
    const keyFile = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const certFile = join(dir, `${name}.crt`);
    const extFile = join(dir, `${name}.ext`);
    writeFileSync(extFile, ext);
    openssl(["req", ...EC, "-keyout", keyFile, "-out", csr, "-subj", `/CN=${name}`]);
    openssl([
      "x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKey, "-set_serial", String(serial++),
      "-days", "1", "-out", certFile, "-extfile", extFile,
    ]);
    const cert = readFileSync(certFile);
    return { certFile, keyFile, cert, key: readFileSync(keyFile), fingerprint: new X509Certificate(cert).fingerprint256 };
  };
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    server: (name) =>
      issue(name, "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n"),
    client: (name) => issue(name, "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
