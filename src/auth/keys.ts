/**
 * API keys and the configured list of their hashes. A key is `vck_` + 32 random bytes
 * (base64url); configuration holds only `sha256:<hex>` of it. Keys are high-entropy, so
 * a fast unsalted hash is right: there is nothing to brute-force, and checking a request
 * must stay cheap.
 */
import { createHash, randomBytes } from "node:crypto";

export const KEY_PREFIX = "vck_";
export const TENANT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

export interface KeyEntry {
  readonly tenant: string;
  /** `sha256:<64 hex>` of the key. */
  readonly hash: string;
}

export function newApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

export function hashApiKey(key: string): string {
  return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

export interface ParsedKeys {
  readonly entries: readonly KeyEntry[];
  /** One per bad entry, naming where it is; never the entry's value (it may be a pasted key). */
  readonly errors: readonly string[];
}

type EntryResult = KeyEntry | string | undefined;

/** One entry: `tenant=sha256:hex` or `tenant sha256:hex`; blank or `#` comment: undefined. */
function parseEntry(raw: string, where: string): EntryResult {
  const item = raw.replace(/#.*$/, "").trim();
  if (item === "") return undefined;
  const match = /^([^\s=]+)\s*[=\s]\s*(\S+)$/.exec(item);
  if (match === null) return `${where}: expected "tenant sha256:<hex>" (or tenant=sha256:<hex>)`;
  const [, tenant = "", hash = ""] = match;
  if (!TENANT_NAME.test(tenant)) return `${where}: tenant name must match ${TENANT_NAME.source}`;
  if (!HASH.test(hash)) {
    const hint = hash.startsWith(KEY_PREFIX)
      ? " (this looks like a key itself: configure its hash, see `voicecode keys new`)"
      : "";
    return `${where}: key hash for tenant ${tenant} must be sha256:<64 lowercase hex>${hint}`;
  }
  return { tenant, hash };
}

function collect(items: readonly string[], where: (index: number) => string): ParsedKeys {
  const entries: KeyEntry[] = [];
  const errors: string[] = [];
  items.forEach((item, index) => {
    const result = parseEntry(item, where(index));
    if (typeof result === "string") errors.push(result);
    else if (result !== undefined) entries.push(result);
  });
  return { entries, errors };
}

/** VOICECODE_API_KEYS: entries separated by commas or newlines. */
export function parseKeysVariable(text: string): ParsedKeys {
  return collect(text.split(/[\n,]/), (i) => `entry ${i + 1}`);
}

/** VOICECODE_API_KEYS_FILE: one entry a line, `#` comments. */
export function parseKeysFile(text: string): ParsedKeys {
  return collect(text.split("\n"), (i) => `line ${i + 1}`);
}
