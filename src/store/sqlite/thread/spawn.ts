import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ThreadInit } from "./protocol.js";

/** The part of tsx's package.json read here: where its ESM API's import build is. */
interface TsxManifest {
  readonly exports: { readonly "./esm/api": { readonly import: { readonly default: string } } };
}

/**
 * Starts entry.ts on a thread. Built (dist/), the thread runs entry.js. Run from the
 * TypeScript sources (tsx, vitest, the benchmarks' source runs), the new thread has no
 * TypeScript loader: it registers tsx's (a devDependency) before importing entry.ts.
 */
export function spawnStoreThread(init: ThreadInit): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./entry.js", import.meta.url), { workerData: init });
  }
  // tsx's ESM API (its "tsx/esm/api" import export): register() then applies to this
  // thread's imports. Its CommonJS build, all `require` would resolve, cannot do that.
  const manifest = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = (JSON.parse(readFileSync(manifest, "utf8")) as TsxManifest).exports["./esm/api"].import.default;
  const api = pathToFileURL(path.join(path.dirname(manifest), exports)).href;
  const entry = new URL("./entry.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: init });
}
