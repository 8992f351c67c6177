/**
 * The certificate, key and (for mTLS) client CA the gRPC and API ports serve, read from
 * files and checked the way the TLS stack will use them, so a bad file is reported by name
 * at start-up (exit 78) or on reload (the previous material stays in force).
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import fs from "node:fs";
import { createSecureContext } from "node:tls";

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Set: clients must present a certificate signed by one of these (mTLS). */
  readonly clientCaFile: string | undefined;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

export type MaterialResult =
  | { readonly ok: true; readonly material: TlsMaterial }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The variable names the errors are reported under. */
const NAMES = {
  cert: "VOICECODE_TLS_CERT_FILE",
  key: "VOICECODE_TLS_KEY_FILE",
  ca: "VOICECODE_TLS_CLIENT_CA_FILE",
} as const;

/** Reads the files' bytes; an unreadable one is an error naming its variable. */
export function readTlsBytes(files: TlsFiles): { cert?: Buffer; key?: Buffer; ca?: Buffer; errors: string[] } {
  const errors: string[] = [];
  const read = (name: string, path: string): Buffer | undefined => {
    try {
      return fs.readFileSync(path);
    } catch (err) {
      errors.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      return undefined;
    }
  };
  const cert = read(NAMES.cert, files.certFile);
  const key = read(NAMES.key, files.keyFile);
  const ca = files.clientCaFile === undefined ? undefined : read(NAMES.ca, files.clientCaFile);
  return { cert, key, ca, errors };
}

/** Checks bytes read by readTlsBytes: each parses, and the key belongs to the certificate. */
export function checkTlsBytes(files: TlsFiles, bytes: ReturnType<typeof readTlsBytes>): MaterialResult {
  const errors = [...bytes.errors];
  const { cert, key, ca } = bytes;
  let certOk = false;
  let keyOk = false;
  if (cert !== undefined) {
    try {
      new X509Certificate(cert);
      certOk = true;
    } catch {
      errors.push(`${NAMES.cert}: ${files.certFile} is not a PEM certificate`);
    }
  }
  if (key !== undefined) {
    try {
      createPrivateKey(key);
      keyOk = true;
    } catch {
      errors.push(`${NAMES.key}: ${files.keyFile} is not a PEM private key (or it is encrypted)`);
    }
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      errors.push(`${NAMES.ca}: ${files.clientCaFile} is not a PEM certificate`);
    }
  }
  if (certOk && keyOk && cert !== undefined && key !== undefined) {
    try {
      createSecureContext({ cert, key });
    } catch {
      errors.push(`${NAMES.key}: ${files.keyFile} is not the key of the certificate in ${files.certFile}`);
    }
  }
  if (errors.length > 0 || cert === undefined || key === undefined) return { ok: false, errors };
  return { ok: true, material: { cert, key, ca } };
}

export function readTlsMaterial(files: TlsFiles): MaterialResult {
  return checkTlsBytes(files, readTlsBytes(files));
}
