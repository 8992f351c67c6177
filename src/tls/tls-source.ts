/**
 * The TLS material in force, re-read when its files change: certificates rotate without a
 * restart (cert-manager, a Kubernetes Secret volume's symlink swap). Files are polled by
 * content, not watched: a Secret volume replaces a symlink, which fs.watch on the file
 * misses. A change is applied only once two polls in a row read the same bytes, so a cert
 * written a moment before its key is not tried as a mismatched pair; a bad new set is
 * reported once and the previous material stays in force.
 */
import { createHash } from "node:crypto";
import { type TlsFiles, type TlsMaterial, checkTlsBytes, readTlsBytes } from "./read-material.js";

export interface TlsSourceOptions {
  readonly files: TlsFiles;
  /** The material read (and checked) at start-up. */
  readonly initial: TlsMaterial;
  /** How often the files are read (ms). */
  readonly pollMs: number;
  readonly onReload?: (material: TlsMaterial) => void;
  readonly onReloadError?: (errors: readonly string[]) => void;
}

export interface TlsSource {
  current(): TlsMaterial;
  /** Called with each new material applied; returns the unsubscribe. */
  subscribe(listener: (material: TlsMaterial) => void): () => void;
  /** One poll now (the timer calls it too). */
  poll(): void;
  close(): void;
}

export function createTlsSource(options: TlsSourceOptions): TlsSource {
  let current = options.initial;
  let applied = digest(current.cert, current.key, current.ca);
  let seen = applied;
  let reported: string | undefined;
  const listeners = new Set<(material: TlsMaterial) => void>();

  function poll(): void {
    const bytes = readTlsBytes(options.files);
    const now = bytes.errors.length > 0 ? `unreadable:${bytes.errors.join()}` : digest(bytes.cert, bytes.key, bytes.ca);
    const settled = now === seen;
    seen = now;
    if (now === applied || !settled || now === reported) return;
    const result = checkTlsBytes(options.files, bytes);
    if (!result.ok) {
      reported = now;
      options.onReloadError?.(result.errors);
      return;
    }
    current = result.material;
    applied = now;
    reported = undefined;
    for (const listener of listeners) listener(current);
    options.onReload?.(current);
  }

  const timer = setInterval(poll, options.pollMs);
  timer.unref();
  return {
    current: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    poll,
    close: () => clearInterval(timer),
  };
}

function digest(...parts: (Buffer | undefined)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(part === undefined ? "-" : `${part.length}:`);
    if (part !== undefined) hash.update(part);
  }
  return hash.digest("hex");
}
