/**
 * What one open WatchStatus stream keeps on the server's heap, by constructor: heap
 * snapshots of the real server (or the bare grpc-js one) before and after opening
 * `--streams` streams, the difference per stream, largest first.
 *
 *   npx tsx bench/scale/heap-diff.ts [--server real|stream-bare] [--streams 2000] [--owners]
 *
 * --owners also names, for each kind, one object that points at it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Child } from "./ipc.js";
import { build } from "./build.js";
import type { RealSetup } from "./server.js";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Self size and count by "type:name". */
function summarize(file: string, withOwners: boolean): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const edgeWidth = snap.snapshot.meta.edge_fields.length;
  const edgeCountAt = fields.indexOf("edge_count");
  const toAt = snap.snapshot.meta.edge_fields.indexOf("to_node");
  const label = (i: number): string => {
    const type = types[snap.nodes[i + typeAt] as number] ?? "?";
    const rawName = snap.strings[snap.nodes[i + nameAt] as number] ?? "?";
    const name = type === "string" || type === "concatenated string" || type === "sliced string" ? "" : rawName.slice(0, 50);
    return `${type}:${name}`;
  };
  // With --owners, each node is also keyed by one node that points at it (the first found).
  const owner = new Map<number, number>();
  if (withOwners) {
    let e = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      const count = snap.nodes[i + edgeCountAt] as number;
      for (let k = 0; k < count; k++, e += edgeWidth) {
        const to = snap.edges[e + toAt] as number;
        if (!owner.has(to)) owner.set(to, i);
      }
    }
  }
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const o = owner.get(i);
    const key = o === undefined ? label(i) : `${label(i)} <- ${label(o)}`;
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += snap.nodes[i + sizeAt] as number;
    entry.count++;
    out.set(key, entry);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { server: { type: "string", default: "real" }, owners: { type: "boolean", default: false }, keep: { type: "boolean", default: false }, streams: { type: "string", default: "2000" } } });
  const n = Number(values.streams);
  build();
  const dir = mkdtempSync(join(tmpdir(), "voicecode-heap-"));
  const server = Child.start("./server.ts", [values.server, dir], ["--expose-gc"]);
  const watchers = Child.start("./watchers.ts", []);
  try {
    const setup = await server.call<RealSetup & { grpcPort: number }>("setup", { calls: n, kingsoftCalls: 0 });
    const calls = setup.calls ?? Array.from({ length: n }, () => ({ callId: "01JDX7T7ZK0Q1R2S3T4V5W6X7Y", afterSequence: 0 }));
    const before = await server.call<string>("heapSnapshot", { path: join(dir, "before.heapsnapshot") });
    await server.call("resetOpen");
    const open = server.call("waitOpen", { n });
    await watchers.call("open", { port: setup.grpcPort, connections: 10, calls });
    await open;
    await new Promise((r) => setTimeout(r, 1000));
    const after = await server.call<string>("heapSnapshot", { path: join(dir, "after.heapsnapshot") });
    const a = summarize(before, values.owners);
    const b = summarize(after, values.owners);
    const rows = [...b.entries()]
      .map(([key, v]) => {
        const old = a.get(key) ?? { size: 0, count: 0 };
        return { key, bytes: (v.size - old.size) / n, count: (v.count - old.count) / n };
      })
      .filter((r) => Math.abs(r.bytes) >= 4)
      .sort((x, y) => y.bytes - x.bytes);
    const total = rows.reduce((t, r) => t + r.bytes, 0);
    console.log(`${values.server}: ${total.toFixed(0)} B of heap per stream (rows ≥ 4 B)`);
    for (const r of rows.slice(0, 90)) console.log(`${r.bytes.toFixed(0).padStart(6)} B  ${r.count.toFixed(2).padStart(6)}×  ${r.key}`);
  } finally {
    await watchers.stop();
    await server.stop();
    if (values.keep) console.log(`snapshots kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
