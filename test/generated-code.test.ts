import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// gen/ is checked in so users can read it; this fails when proto/ changed and
// `npm run generate` was not run.
const root = join(import.meta.dirname, "..");
const out = mkdtempSync(join(tmpdir(), "voicecode-gen-"));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe("gen/", () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("matches what buf generate produces from proto/", () => {
    execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", out], { cwd: root });
    const fresh = files(join(out, "gen")).map((f) => relative(join(out, "gen"), f)).sort();
    const committed = files(join(root, "gen")).map((f) => relative(join(root, "gen"), f)).sort();
    expect(committed).toEqual(fresh);
    for (const file of fresh) {
      const want = readFileSync(join(out, "gen", file), "utf8");
      const have = readFileSync(join(root, "gen", file), "utf8");
      expect(have, `gen/${file} is stale: run npm run generate`).toBe(want);
    }
  });
});
