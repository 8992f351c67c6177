/**
 * The load generator of the scale bench, in a process of its own: POSTs prepared bodies
 * over keep-alive HTTP/1.1, either open-loop at a fixed rate (each request leaves at its
 * scheduled time whatever the answers do, so a slow server shows as latency, not as a
 * lower offered rate) or closed-loop with a fixed number in flight (throughput).
 */
import { Agent, request } from "node:http";
import { serve, wallMs } from "./ipc.js";

export interface Item {
  readonly key: string;
  readonly body: string;
}

export interface OpenLoopResult {
  /** key → scheduled wall-clock send time (latency is measured from it). */
  readonly scheduled: Record<string, number>;
  /** key → wall-clock time its answer (200 or not) was read in full. */
  readonly answered: Record<string, number>;
  readonly ok: number;
  readonly failed: number;
  readonly firstMs: number;
  readonly lastMs: number;
  /** The generator's own lag: how late the last request left its schedule. */
  readonly maxLagMs: number;
  /** Connections the agent opened in all (warm: the pool). */
  readonly connections: number;
}

export interface ClosedLoopResult {
  readonly elapsedMs: number;
  readonly ok: number;
  readonly failed: number;
  readonly statuses: Record<string, number>;
}

function post(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

function warmUp(agent: Agent, url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent }, (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * `connections`: a fixed pool of keep-alive connections, all opened before the clock
 * starts (as wrk2 does); a request that finds every one busy waits for one, and that wait
 * counts (latency is from the schedule). 0: cold, up to 256 connections opened on demand
 * during the run. A busy Node server accepts one new connection per event-loop turn
 * (strace: one accept4 per epoll_wait), so a cold run's first seconds measure that.
 */
async function openLoop(args: { url: string; rate: number; items: readonly Item[]; connections: number }): Promise<OpenLoopResult> {
  const warm = args.connections > 0;
  const agent = new Agent({ keepAlive: true, maxSockets: warm ? args.connections : 256 });
  const url = new URL(args.url);
  if (warm) {
    // A GET is answered 405 at once and leaves its connection open for the next request.
    await Promise.all(Array.from({ length: args.connections }, () => warmUp(agent, url)));
    const open = Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
    if (open !== args.connections) throw new Error(`warm-up opened ${open} of ${args.connections} connections`);
  }
  const scheduled: Record<string, number> = {};
  const answered: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let maxLagMs = 0;
  const pending: Promise<void>[] = [];
  const interval = 1000 / args.rate;
  const startMs = wallMs() + 20;
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = wallMs();
      while (next < args.items.length && startMs + next * interval <= now) {
        const item = args.items[next] as Item;
        const at = startMs + next * interval;
        scheduled[item.key] = at;
        maxLagMs = Math.max(maxLagMs, now - at);
        pending.push(
          post(agent, url, item.body).then((status) => {
            answered[item.key] = wallMs();
            if (status === 200) ok++;
            else failed++;
          }),
        );
        next++;
      }
      if (next >= args.items.length) done();
      else setTimeout(tick, Math.max(0, startMs + next * interval - wallMs()));
    };
    setTimeout(tick, 20);
  });
  await Promise.all(pending);
  const connections = Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
  agent.destroy();
  return { connections, scheduled, answered, ok, failed, firstMs: startMs, lastMs: startMs + (args.items.length - 1) * interval, maxLagMs };
}

async function closedLoop(args: { url: string; concurrency: number; bodies: readonly string[] }): Promise<ClosedLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
  const url = new URL(args.url);
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = wallMs();
  const worker = async () => {
    while (next < args.bodies.length) {
      const body = args.bodies[next++] as string;
      const status = await post(agent, url, body);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const elapsedMs = wallMs() - started;
  agent.destroy();
  const ok = statuses["200"] ?? 0;
  return { elapsedMs, ok, failed: args.bodies.length - ok, statuses };
}

serve({ openLoop, closedLoop });
