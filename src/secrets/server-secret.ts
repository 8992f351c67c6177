/**
 * Where the server secret comes from: VOICECODE_SERVER_SECRET when set (required with
 * PostgreSQL, where every replica must share it), else a file generated once beside the
 * SQLite database with 0600 permissions, so `npm start` needs no set-up. A throwaway
 * (":memory:") store gets a throwaway secret.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { MIN_SECRET_BYTES } from "./keyring.js";

export type SecretSource =
  | { readonly kind: "configured"; readonly value: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "ephemeral" };

/** The secret file that belongs to an SQLite database file. */
export function secretFileFor(dbPath: string): string {
  return path.join(path.dirname(path.resolve(dbPath)), "voicecode.secret");
}

export function loadServerSecret(source: SecretSource): Buffer {
  switch (source.kind) {
    case "configured":
      return Buffer.from(source.value, "utf8");
    case "ephemeral":
      return randomBytes(MIN_SECRET_BYTES);
    case "file":
      return readOrCreate(source.path);
  }
}

function readOrCreate(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    // 'wx': two processes starting together must not both write a different secret.
    fs.writeFileSync(file, `${randomBytes(48).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${file}: the server secret must not be readable by others (mode ${mode.toString(8)}; chmod 600 it)`);
  }
  const value = fs.readFileSync(file, "utf8").trim();
  if (Buffer.byteLength(value, "utf8") < MIN_SECRET_BYTES) {
    throw new Error(`${file}: the server secret is shorter than ${MIN_SECRET_BYTES} bytes`);
  }
  return Buffer.from(value, "utf8");
}
