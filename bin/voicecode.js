#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled into dist/, so say how to get it there.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/bin.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("voicecode: run `npm run build` first\n");
  process.exit(1);
}
await import(entry.href);
