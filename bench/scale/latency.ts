/**
 * Callback → event latencies, from the load generator's schedule and answers and the
 * watching client's arrivals: shared by run.ts (one server) and replicas.ts (A → B).
 */
import type { Item, OpenLoopResult } from "./load.js";
import type { Arrivals } from "./watchers.js";

export interface Timeline {
  /** POST scheduled → event at the client, ascending. */
  readonly latencies: number[];
  /** POST scheduled → webhook answer, ascending. */
  readonly acks: number[];
  /** Webhook answer → event at the client, ascending. */
  readonly fanouts: number[];
  /** Per callback, in schedule order: sent offset, POST → answer, answer → event (tab-separated ms). */
  readonly rows: string[];
  /** The last event's arrival (or the first POST, when none arrived). */
  readonly lastArrival: number;
}

export function timeline(items: readonly Item[], sent: OpenLoopResult, arrivals: Arrivals): Timeline {
  const latencies: number[] = [];
  const acks: number[] = [];
  const fanouts: number[] = [];
  const rows: string[] = [];
  let lastArrival = sent.firstMs;
  for (const item of items) {
    const at = arrivals.first[item.key];
    const scheduled = sent.scheduled[item.key];
    if (at === undefined || scheduled === undefined) continue;
    latencies.push(at - scheduled);
    const answeredAt = sent.answered[item.key];
    if (answeredAt !== undefined) {
      acks.push(answeredAt - scheduled);
      fanouts.push(at - answeredAt);
      rows.push(`${(scheduled - sent.firstMs).toFixed(1)}\t${(answeredAt - scheduled).toFixed(2)}\t${(at - answeredAt).toFixed(2)}`);
    }
    lastArrival = Math.max(lastArrival, at);
  }
  for (const list of [latencies, acks, fanouts]) list.sort((a, b) => a - b);
  return { latencies, acks, fanouts, rows, lastArrival };
}

/** The nearest-rank percentile of an ascending list; NaN for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
