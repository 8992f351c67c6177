import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";

// No container engine runs on our machines, so the Dockerfile is checked as text against
// what it must agree with: the start command in package.json, the ports in the config.
const root = join(import.meta.dirname, "..", "..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name: string;
  readonly instructions: Instruction[];
}

/** Instructions (continuations joined, comments dropped), grouped by stage. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = "", ...rest] = line.split(/\s+/);
    const instruction = { op: op.toUpperCase(), args: rest.join(" ") };
    if (instruction.op === "FROM") {
      const m = /^(\S+)\s+AS\s+(\S+)$/i.exec(instruction.args);
      if (m === null) throw new Error(`unnamed stage: ${line}`);
      stages.push({ from: m[1] as string, name: m[2] as string, instructions: [] });
    } else if (stages.length === 0 && instruction.op === "ARG") {
      const [name = "", value = ""] = instruction.args.split("=");
      args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

const { args, stages } = parseDockerfile(dockerfile);
const runtime = stages.at(-1) as Stage;
const all = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);
const env = new Map(
  all(runtime, "ENV").flatMap((a) => [...a.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string])),
);

/**
 * `npm start` minus its build step: what the image runs directly. A leading `exec` (the
 * shell replacing itself with node, so npm's signals reach it) is what an exec-form CMD
 * does anyway.
 */
function startCommand(): { build: string[]; run: string[] } {
  const steps = (pkg.scripts.start ?? "").split("&&").map((s) => s.trim());
  const run = steps.at(-1)?.split(/\s+/) ?? [];
  return { build: steps.slice(0, -1), run: run[0] === "exec" ? run.slice(1) : run };
}

describe("Dockerfile", () => {
  it("builds in one stage and runs from another, both on the same Debian node:20 image", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "deps", "runtime"]);
    const image = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_, name: string) => args.get(name) ?? "");
    const images = new Set(stages.map((s) => image(s.from)));
    // One base for all: the native better-sqlite3 addon compiled in `deps` must load in `runtime`.
    expect([...images]).toEqual(["node:20-bookworm-slim"]);
  });

  it("compiles with the build step npm start runs, and installs only production dependencies to run", () => {
    const build = stages.find((s) => s.name === "build") as Stage;
    const deps = stages.find((s) => s.name === "deps") as Stage;
    const { build: buildSteps } = startCommand();
    expect(buildSteps.length).toBeGreaterThan(0);
    for (const step of buildSteps) expect(all(build, "RUN")).toContain(step);
    expect(all(build, "RUN")).toContain("npm ci");
    expect(all(deps, "RUN").some((r) => r.startsWith("npm ci --omit=dev"))).toBe(true);
    // A compiler where better-sqlite3 may have to build from source, none at run time.
    expect(all(deps, "RUN").join(" ")).toMatch(/python3 make g\+\+/);
    expect(all(runtime, "RUN").join(" ")).not.toMatch(/g\+\+/);
    expect(all(runtime, "COPY")).toEqual(
      expect.arrayContaining(["--from=deps /app/node_modules ./node_modules", "--from=build /app/dist ./dist"]),
    );
  });

  it("runs what npm start runs after its build, in exec form so node is PID 1 and gets SIGTERM", () => {
    const cmd = all(runtime, "CMD");
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0] as string)).toEqual(startCommand().run);
    expect(startCommand().run).toEqual(["node", "dist/src/main.js"]);
    expect(all(runtime, "ENTRYPOINT")).toEqual([]);
    expect(all(runtime, "STOPSIGNAL")).toEqual(["SIGTERM"]);
  });

  it("runs as a numeric non-root user", () => {
    const user = all(runtime, "USER");
    expect(user).toHaveLength(1);
    const uid = Number((user[0] as string).split(":")[0]);
    expect(Number.isInteger(uid) && uid > 0).toBe(true);
  });

  it("exposes exactly the three ports the configuration defaults to", () => {
    const parsed = parseConfig({});
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    const { grpcPort, apiPort, webhookPort } = parsed.config;
    const exposed = all(runtime, "EXPOSE").flatMap((a) => a.split(/\s+/)).map(Number);
    expect(exposed.sort()).toEqual([grpcPort, apiPort, webhookPort].sort());
  });

  it("keeps the SQLite file on a volume owned by the user it runs as", () => {
    const dbPath = env.get("VOICECODE_DB_PATH");
    expect(dbPath).toBeDefined();
    const parsed = parseConfig({ VOICECODE_DB_PATH: dbPath });
    expect(parsed.ok).toBe(true);
    const dir = dirname(dbPath as string);
    expect(all(runtime, "VOLUME")).toEqual([dir]);
    const uid = (all(runtime, "USER")[0] as string).split(":")[0];
    expect(all(runtime, "RUN").join(" ")).toContain(`chown ${uid}:${uid} ${dir}`);
  });

  it("leaves node_modules, dist, data and the git history out of the build context", () => {
    const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", "dist", "data", ".git", "*.db"]));
    // And nothing the build copies in.
    const copied = stages.flatMap((s) => all(s, "COPY")).filter((c) => !c.startsWith("--from="));
    const sources = copied.flatMap((c) => c.split(/\s+/).slice(0, -1));
    for (const source of sources) expect(ignored, source).not.toContain(source.replace(/^\.\//, ""));
  });
});
