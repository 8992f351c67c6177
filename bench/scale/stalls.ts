/**
 * What stopped a server's event loop during a phase: its delay histogram (how late a
 * 1 ms timer ran) and the garbage collector's pauses. A latency tail with long loop
 * delays and no long GC pauses was synchronous work (a commit's sync, a checkpoint).
 */
import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay } from "node:perf_hooks";

export interface Stalls {
  readonly loopDelayP50Ms: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly gcCount: number;
  readonly gcTotalMs: number;
  readonly gcMaxMs: number;
}

export function watchStalls(): { stop(): Stalls } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let gcCount = 0;
  let gcTotalMs = 0;
  let gcMaxMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcTotalMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
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
      };
    },
  };
}
