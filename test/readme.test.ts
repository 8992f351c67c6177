import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROVIDER_MODULES } from "../src/providers/index.js";
import { describeScenarios } from "../src/providers/sandbox/index.js";

// Keeps the README true where it restates code: the sandbox table and the variables
// (the core's in the configuration table, each real provider's in its own table).
const root = join(import.meta.dirname, "..");
// The README is the front page; the tables it links to live in docs/.
const readme = ["README.md", "docs/configuration.md", "docs/providers.md", "docs/operations.md"]
  .map((file) => readFileSync(join(root, file), "utf8"))
  .join("\n");
const configSource = readFileSync(join(import.meta.dirname, "..", "src", "config.ts"), "utf8");

describe("README", () => {
  it("documents every sandbox scenario as the code defines it", () => {
    for (const s of describeScenarios()) {
      const suffix = s.suffix === "other" ? "anything else" : s.suffix;
      const row = readme.split("\n").find((line) => line.startsWith(`| ${suffix} |`));
      expect(row, `README row for ${suffix}`).toBeDefined();
      const cells = row!.split("|").map((c) => c.trim());
      const callbacks = s.callbacks.length === 0 ? "none" : s.callbacks.join(", ");
      expect(cells[3]).toBe(callbacks);
      const end = s.failureReason === "UNSPECIFIED" ? s.finalState : `${s.finalState} ${s.failureReason}`;
      expect(cells[4]).toBe(end);
    }
  });

  it("documents exactly the environment variables the config reads", () => {
    const inCode = new Set([
      ...(configSource.match(/VOICECODE_[A-Z_]+/g) ?? []),
      ...PROVIDER_MODULES.flatMap((m) => m.envVars),
    ]);
    const inReadme = new Set(
      [...readme.matchAll(/^\| `(VOICECODE_[A-Z_]+)` \|/gm)].map((m) => m[1] as string),
    );
    expect([...inReadme].sort()).toEqual([...inCode].sort());
  });
});
