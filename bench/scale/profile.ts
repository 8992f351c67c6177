/**
 * A CPU profile of one phase of a bench server (the inspector's profiler, started and
 * stopped over IPC), so setup work does not drown the phase measured. Each stop writes
 * `<dir>/phase-<n>.cpuprofile`, readable by Chrome DevTools or bench/scale/profile-top.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export function phaseProfiler(dir: string): { start(): Promise<void>; stop(): Promise<void> } {
  const session = new Session();
  session.connect();
  let n = 0;
  return {
    async start() {
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
    },
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `phase-${++n}.cpuprofile`), JSON.stringify(profile));
    },
  };
}
