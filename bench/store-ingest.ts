/**
 * The store alone: store.ingest of Kingsoft-shaped FAIL reports, `--batch` per call, for
 * calls already accepted, on a SQLite file with the production settings. Prints events/s.
 * Isolates the store's per-report cost from the webhook path measured by bench/ingest.ts.
 *
 *   npx tsx bench/store-ingest.ts [--calls 10000] [--batch 200] [--inflight 4]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CallState, FailureReason } from "../src/core/model.js";
import type { InboundEvent } from "../src/core/provider.js";
import { createKeyring } from "../src/secrets/keyring.js";
import { ulid } from "../src/core/ulid.js";
import { createSqliteStore } from "../src/store/sqlite/index.js";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "10000" },
    batch: { type: "string", default: "200" },
    inflight: { type: "string", default: "4" },
  },
});
const calls = Number(values.calls);
const batch = Number(values.batch);
const inflight = Number(values.inflight);

const dir = mkdtempSync(join(tmpdir(), "voicecode-store-ingest-"));
const store = createSqliteStore({ path: join(dir, "db.sqlite"), keyring: createKeyring(randomBytes(32)) });
try {
  const now = Date.now();
  // ULIDs and random provider ids, as in production: index inserts land on random pages.
  const ids = Array.from({ length: calls }, () => ({ callId: ulid(), providerCallId: randomBytes(11).toString("hex") }));
  for (let i = 0; i < calls; i += 256) {
    await Promise.all(
      ids.slice(i, i + 256).map(async ({ callId, providerCallId }) => {
        await store.createCall({
          callId,
          provider: "kingsoft",
          phoneMasked: "+86137****2222",
          playTimes: 1,
          clientReference: `ref-${callId}`,
          metadata: {},
          idempotencyKey: "",
          requestHash: "",
          nowMs: now,
        });
        await store.recordSendResult(callId, { kind: "accepted", providerCallId, providerCode: "0", providerText: "" }, now);
      }),
    );
  }
  const push = (c: { callId: string; providerCallId: string }): InboundEvent => ({
    dedupeKey: `${c.providerCallId}:FAIL:DH:0001`,
    providerCallId: c.providerCallId,
    callId: c.callId,
    state: CallState.FAILED,
    failureReason: FailureReason.BUSY,
    providerCode: "DH:0001",
    providerText: "busy",
    occurredAtMs: now,
    details: { endedAtMs: now },
  });
  const batches: InboundEvent[][] = [];
  for (let i = 0; i < calls; i += batch) batches.push(ids.slice(i, i + batch).map(push));
  let next = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      for (let b = batches[next++]; b !== undefined; b = batches[next++]) {
        const r = await store.ingest("kingsoft", b, Date.now());
        if (r.appended.length !== b.length) throw new Error(`appended ${r.appended.length} of ${b.length}`);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  // CPU time per event is steadier than the rate on a shared machine.
  process.stdout.write(
    `store.ingest: ${calls} reports in batches of ${batch}, ${inflight} in flight: ${(calls / seconds).toFixed(0)} events/s, ` +
      `${((used.user + used.system) / calls).toFixed(1)} CPU µs/event\n`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
