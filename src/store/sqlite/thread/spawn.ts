import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ThreadInit } from "./protocol.js";

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
  const root = path.dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const api = pathToFileURL(path.join(root, "dist/esm/api/index.mjs")).href;
  const entry = new URL("./entry.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: init });
}
