import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The real server runs from dist/ (see server.ts): build it from this tree first. */
export function build(): void {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const result = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error("the build (tsc -p tsconfig.build.json) failed");
}
