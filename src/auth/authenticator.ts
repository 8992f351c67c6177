/**
 * Who is calling: the tenant of the key in `authorization: Bearer <key>`, or undefined.
 *
 * The presented key's SHA-256 is compared with EVERY configured hash with
 * timingSafeEqual, with no early exit, so the time taken says nothing about which
 * configured hash (if any) came close. Several hashes per tenant make rotation a matter
 * of adding the new line, moving callers over, then removing the old one.
 *
 * With a keys file, the file is re-read when its size or mtime changes (checked at most
 * every `recheckMs`), so revoking a key (deleting its line) needs no restart. A file that
 * no longer parses, or has vanished, is reported and the keys last read stay in force:
 * half an edit must not lock every caller out.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import { DEFAULT_TENANT } from "../core/caller.js";
import { type KeyEntry, parseKeysFile } from "./keys.js";

export interface AuthenticatorOptions {
  /** Entries from VOICECODE_API_KEYS. */
  readonly entries: readonly KeyEntry[];
  /** VOICECODE_API_KEYS_FILE, already validated once at start-up. */
  readonly file?: string;
  /** Minimum time between two checks of the file. Default 1 000 ms. */
  readonly recheckMs?: number;
  readonly now?: () => number;
  /** A changed file was read: how many keys are now configured. */
  readonly onReload?: (keys: number) => void;
  /** The file changed but could not be used; the previous keys stay in force. */
  readonly onReloadError?: (problem: string) => void;
}

export interface Authenticator {
  /** No keys configured at all: every caller is tenant `default`. */
  readonly open: boolean;
  /** The tenant names configured now (bounded: they label metrics). */
  readonly tenants: readonly string[];
  /** The value of the authorization header(s); undefined when absent. */
  authenticate(authorization: string | undefined): string | undefined;
}

interface Compiled {
  readonly tenant: string;
  readonly digest: Buffer;
}

function compile(entries: readonly KeyEntry[]): Compiled[] {
  return entries.map((e) => ({ tenant: e.tenant, digest: Buffer.from(e.hash.slice("sha256:".length), "hex") }));
}

const BEARER = /^Bearer +(\S+) *$/i;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const file = options.file;
  const open = file === undefined && options.entries.length === 0;
  const recheckMs = options.recheckMs ?? 1_000;
  const now = options.now ?? Date.now;
  let fromFile: Compiled[] = [];
  let stamp = "";
  let checkedAt = Number.NEGATIVE_INFINITY;
  const fixed = compile(options.entries);

  const refresh = (): void => {
    if (file === undefined) return;
    const t = now();
    if (t - checkedAt < recheckMs) return;
    checkedAt = t;
    let current: string;
    try {
      const st = fs.statSync(file);
      current = `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch (err) {
      if (stamp !== "missing") options.onReloadError?.(`keys file unreadable: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
      stamp = "missing";
      return;
    }
    if (current === stamp) return;
    stamp = current;
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      options.onReloadError?.(`keys file unreadable: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
      return;
    }
    const parsed = parseKeysFile(text);
    if (parsed.errors.length > 0) {
      options.onReloadError?.(`keys file not reloaded: ${parsed.errors.join("; ")}`);
      return;
    }
    fromFile = compile(parsed.entries);
    options.onReload?.(fixed.length + fromFile.length);
  };
  refresh();

  return {
    open,
    get tenants() {
      if (open) return [DEFAULT_TENANT];
      refresh();
      return [...new Set([...fixed, ...fromFile].map((c) => c.tenant))].sort();
    },
    authenticate(authorization) {
      if (open) return DEFAULT_TENANT;
      refresh();
      const key = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
      if (key === undefined) return undefined;
      const digest = createHash("sha256").update(key, "utf8").digest();
      let found: string | undefined;
      for (const candidate of [...fixed, ...fromFile]) {
        // Every candidate is compared; the result is only read after the loop.
        const same = timingSafeEqual(candidate.digest, digest);
        if (same && found === undefined) found = candidate.tenant;
      }
      return found;
    },
  };
}
