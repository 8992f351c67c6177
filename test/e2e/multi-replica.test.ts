/**
 * Two real server processes on one PostgreSQL database, as in a mesh: Send and provider
 * callbacks on replica A, watchers on replica B, retries landing on either. The sandbox's
 * own carrier is slowed to never call back during a test; callbacks are posted here, in
 * the sandbox's wire format, to whichever replica's ingress the test names. The periodic
 * catch-up is set to a minute, so every live delivery below comes from NOTIFY (or from
 * the listener's catch-up after a reconnect).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SendResponse } from "../../gen/voicecode/v1/voicecode_pb.js";
import { grpcJsClient, type TestClient } from "../support/clients.js";
import { CallState } from "../../src/core/model.js";
import { collect } from "../support/collect.js";
import { describePostgres, terminateBackends, useTestDatabase } from "../support/postgres.js";
import { metricValue, type ServerProcess, startServerProcess } from "../support/server-process.js";

const TOKEN = "multi-replica-token-0123456789";
const LIFECYCLE = [
  ["dialing", "100", "DIALING"],
  ["ringing", "180", "RINGING"],
  ["answered", "200", "ANSWERED"],
  ["completed", "200", "COMPLETED"],
] as const;

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(10);
}

describePostgres("two server processes on one PostgreSQL database", () => {
  const db = useTestDatabase();
  let dir: string | undefined;
  let a: ServerProcess;
  let b: ServerProcess;
  let started: ServerProcess[] = [];
  let clientA: TestClient;
  let clientB: TestClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "voicecode-replicas-"));
    const env = {
      DATABASE_URL: db.url,
      VOICECODE_SERVER_SECRET: "multi-replica-test-secret-0123456789abcdef",
      VOICECODE_SANDBOX_STEP_MS: "3600000",
      VOICECODE_SANDBOX_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_PG_CATCHUP_MS: "60000",
      VOICECODE_SHUTDOWN_GRACE_MS: "3000",
    };
    // Started together: both migrate the fresh database under the migration lock. Settled,
    // not Promise.all: if one fails, the other must still be stopped in afterAll.
    const starts = await Promise.allSettled([startServerProcess(env, dir), startServerProcess(env, dir)]);
    started = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    for (const s of starts) if (s.status === "rejected") throw s.reason;
    [a, b] = started as [ServerProcess, ServerProcess];
    clientA = grpcJsClient(a.grpcUrl);
    clientB = grpcJsClient(b.grpcUrl);
  }, 60_000);

  afterAll(async () => {
    clientA?.close();
    clientB?.close();
    const codes = await Promise.all(started.map((p) => p.stop()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  }, 30_000);

  /** Posts one sandbox callback for `sent` to a replica's webhook ingress. */
  async function callback(replica: ServerProcess, sent: SendResponse, step: (typeof LIFECYCLE)[number]) {
    const [event, code, text] = step;
    const response = await fetch(`${replica.webhookUrl}/webhooks/sandbox/${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        callId: sent.providerCallId,
        userData: sent.callId,
        event,
        code,
        text,
        timestamp: "2026-01-01T00:00:00.000Z",
      }),
    });
    expect(response.status).toBe(200);
  }

  /** A client-reference watch collected in the background; `rows` fills as events arrive. */
  function watchInBackground(client: TestClient, ref: string) {
    const abort = new AbortController();
    const rows: Array<{ sequence: number; state: string | undefined }> = [];
    const done = (async () => {
      try {
        for await (const { event } of client.watch({ target: { case: "clientReference", value: ref } }, abort.signal)) {
          if (event !== undefined) rows.push({ sequence: Number(event.sequence), state: stateName(event.state) });
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    return {
      rows,
      async stop() {
        abort.abort();
        await done;
      },
    };
  }

  const stateName = (state: CallState): string | undefined => CallState[state];

  const storedSequences = async (client: TestClient, callId: string) =>
    (await client.getCall(callId)).events.map((e) => Number(e.sequence));

  it("Send and callbacks on A: a watcher on B sees every event live, in order", async () => {
    const ref = `fanout-${Date.now()}`;
    const watcher = watchInBackground(clientB, ref);
    const sent = await clientA.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: ref });
    expect(stateName(sent.state)).toBe("ACCEPTED");
    await until(() => watcher.rows.length === 1);
    for (const [i, step] of LIFECYCLE.entries()) {
      await callback(a, sent, step);
      // Each one reaches B before the next is sent: delivered live, not replayed.
      await until(() => watcher.rows.length === i + 2);
    }
    await watcher.stop();
    expect(watcher.rows.map((r) => r.state)).toEqual(["ACCEPTED", "DIALING", "RINGING", "ANSWERED", "COMPLETED"]);
    expect(watcher.rows.map((r) => r.sequence)).toEqual(await storedSequences(clientB, sent.callId));
  });

  it("a watcher cut off on B resumes on A with after_sequence and gets exactly the missed events", async () => {
    const sent = await clientA.send({ phoneNumber: "+8613711113333", code: "1234" });
    const target = { case: "callId" as const, value: sent.callId };
    const abort = new AbortController();
    const first = collect(clientB.watch({ target }, abort.signal), 2);
    await callback(a, sent, LIFECYCLE[0]);
    const seen = await first;
    abort.abort();
    expect(seen.map((r) => r.state)).toEqual(["ACCEPTED", "DIALING"]);

    for (const step of LIFECYCLE.slice(1)) await callback(a, sent, step);
    const resumed = await collect(clientA.watch({ target, afterSequence: BigInt(seen[1]!.sequence) }));
    expect(resumed.map((r) => r.state)).toEqual(["RINGING", "ANSWERED", "COMPLETED"]);
    expect([...seen, ...resumed].map((r) => r.sequence)).toEqual(await storedSequences(clientA, sent.callId));
  });

  it("killing both replicas' listener connections mid-stream loses no event for a watcher", async () => {
    const ref = `kill-${Date.now()}`;
    const watcher = watchInBackground(clientB, ref);
    const sent = await clientA.send({ phoneNumber: "+8613711114444", code: "1234", clientReference: ref });
    await callback(a, sent, LIFECYCLE[0]);
    await until(() => watcher.rows.length === 2);

    expect(await terminateBackends(db.name, "voicecode-listener")).toBe(2);
    for (const step of LIFECYCLE.slice(1)) await callback(a, sent, step);
    await until(() => watcher.rows.length >= 5);
    await watcher.stop();
    expect(watcher.rows.map((r) => r.state)).toEqual(["ACCEPTED", "DIALING", "RINGING", "ANSWERED", "COMPLETED"]);
    expect(watcher.rows.map((r) => r.sequence)).toEqual(await storedSequences(clientB, sent.callId));
  });

  it("concurrent idempotent Sends on A and B create one call and place one provider call", async () => {
    const labels = (outcome: string) => ({ provider: "sandbox", outcome });
    const count = async (outcome: string) =>
      (await metricValue(a.apiUrl, "voicecode_sends_total", labels(outcome))) +
      (await metricValue(b.apiUrl, "voicecode_sends_total", labels(outcome)));
    const acceptedBefore = await count("ACCEPTED");
    const replayedBefore = await count("REPLAYED");

    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const request = {
        phoneNumber: "+8613711115555",
        code: "4321",
        idempotencyKey: `idem-${Date.now()}-${round}`,
      };
      const [fromA, fromB] = await Promise.all([clientA.send(request), clientB.send(request)]);
      expect(fromA.callId).toBe(fromB.callId);
      expect([fromA.idempotentReplay, fromB.idempotentReplay].sort()).toEqual([false, true]);
      const call = await clientB.getCall(fromA.callId);
      expect(call.events.map((e) => stateName(e.state))).toEqual(["ACCEPTED"]);
    }
    expect((await count("ACCEPTED")) - acceptedBefore).toBe(rounds);
    expect((await count("REPLAYED")) - replayedBefore).toBe(rounds);
  });

  it("the same callback delivered to A and B at once is stored once", async () => {
    const result = async (r: string) =>
      (await metricValue(a.apiUrl, "voicecode_webhook_requests_total", { provider: "sandbox", result: r })) +
      (await metricValue(b.apiUrl, "voicecode_webhook_requests_total", { provider: "sandbox", result: r }));
    const acceptedBefore = await result("accepted");
    const duplicateBefore = await result("duplicate");

    const sent = await clientB.send({ phoneNumber: "+8613711116666", code: "1234" });
    for (const step of LIFECYCLE) {
      await Promise.all([callback(a, sent, step), callback(b, sent, step), callback(a, sent, step)]);
    }
    const call = await clientA.getCall(sent.callId);
    expect(call.events.map((e) => stateName(e.state))).toEqual([
      "ACCEPTED",
      "DIALING",
      "RINGING",
      "ANSWERED",
      "COMPLETED",
    ]);
    expect((await result("accepted")) - acceptedBefore).toBe(LIFECYCLE.length);
    expect((await result("duplicate")) - duplicateBefore).toBe(2 * LIFECYCLE.length);
  });
});
