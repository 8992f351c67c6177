/**
 * What stopped a server's event loop during a phase: its delay histogram (how late a
 * 1 ms timer ran) and the garbage collector's pauses. A latency tail with long loop
 * delays and no long GC pauses was synchronous work (a commit's sync, a checkpoint).
 */
import { type IntervalHistogram, PerformanceObserver, constants, monitorEventLoopDelay } from "node:perf_hooks";

export interface Stalls {
  readonly loopDelayP50Ms: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly gcCount: number;
  readonly gcTotalMs: number;
  readonly gcMaxMs: number;
  /** The longest pause of each kind of collection ("minor" scavenges, "major" mark-compacts, …). */
  readonly gcMaxMsByKind: Readonly<Record<string, number>>;
  /** The server process's CPU time (user + system) over the phase: steadier than rates on a shared box. */
  readonly cpuMs: number;
}

export function watchStalls(): { stop(): Stalls } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let gcCount = 0;
  let gcTotalMs = 0;
  let gcMaxMs = 0;
  const gcMaxMsByKind: Record<string, number> = {};
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcTotalMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
      const kind = gcKind((entry as { detail?: { kind?: number } }).detail?.kind);
      gcMaxMsByKind[kind] = Math.max(gcMaxMsByKind[kind] ?? 0, entry.duration);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const cpuAtStart = process.cpuUsage();
  return {
    stop() {
      histogram.disable();
      observer.disconnect();
      const ms = (ns: number) => ns / 1e6;
      return {
        loopDelayP50Ms: ms(histogram.percentile(50)),
        loopDelayP99Ms: ms(histogram.percentile(99)),
        loopDelayMaxMs: ms(histogram.max),
        gcCount,
        gcTotalMs,
        gcMaxMs,
        gcMaxMsByKind,
        cpuMs: ((cpu) => (cpu.user + cpu.system) / 1000)(process.cpuUsage(cpuAtStart)),
      };
    },
  };
}

function gcKind(kind: number | undefined): string {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MINOR:
      return "minor";
    case constants.NODE_PERFORMANCE_GC_MAJOR:
      return "major";
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
      return "incremental";
    case constants.NODE_PERFORMANCE_GC_WEAKCB:
      return "weakcb";
    default:
      return "other";
  }
}
