/**
 * Just enough of kustomize to read deploy/kubernetes without kubectl: `resources` (files
 * and directories, recursively) and strategic-merge `patches` of maps (what our overlays
 * use). Anything else in a kustomization fails loudly, so the test cannot silently read
 * something other than what `kubectl apply -k` would apply.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";

export type Manifest = Record<string, unknown> & {
  readonly kind: string;
  readonly metadata: { readonly name: string };
};

const KNOWN_FIELDS = new Set(["apiVersion", "kind", "resources", "patches", "labels"]);

export function loadKustomization(dir: string): Manifest[] {
  const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Record<string, unknown>;
  for (const field of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(field)) throw new Error(`${dir}: kustomization field ${field} is not understood by this loader`);
  }
  const out: Manifest[] = [];
  for (const resource of (k.resources as string[] | undefined) ?? []) {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) out.push(...loadKustomization(path));
    else out.push(...loadFile(path));
  }
  for (const patch of (k.patches as { path: string }[] | undefined) ?? []) {
    for (const p of loadFile(join(dir, patch.path))) {
      const target = out.find((m) => m.kind === p.kind && m.metadata.name === p.metadata.name);
      if (target === undefined) throw new Error(`patch ${patch.path}: no ${p.kind} ${p.metadata.name}`);
      out[out.indexOf(target)] = merge(target, p) as Manifest;
    }
  }
  return out;
}

function loadFile(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** Maps merge key by key; anything else (lists included) is replaced. */
function merge(base: unknown, patch: unknown): unknown {
  if (!isMap(base) || !isMap(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) out[key] = merge(base[key], value);
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
