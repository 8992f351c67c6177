import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CallState } from "../../src/core/model.js";
import { failureOf, grpcJsClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { createCarrier, startTestServer } from "../support/test-server.js";

const dir = mkdtempSync(join(tmpdir(), "voicecode-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SQLite file: restart in the middle of a call", () => {
  it("keeps every event, applies callbacks that arrive after the restart, and watchers resume", async () => {
    const env = { VOICECODE_DB_PATH: join(dir, "voicecode.db") };
    const carrier = createCarrier();

    const first = await startTestServer(carrier, env);
    const c1 = grpcJsClient(first.grpcUrl);
    const sent = await c1.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: "r" });
    await carrier.scheduler.runNext(); // DIALING is delivered and stored

    // A watcher is connected when the server drains: it is told where to resume.
    const rows: Awaited<ReturnType<typeof collect>> = [];
    const interrupted = failureOf(
      (async () => {
        for await (const r of c1.watch({ target: { case: "callId", value: sent.callId } })) {
          rows.push({
            sequence: Number(r.event!.sequence),
            callId: r.event!.callId,
            state: CallState[r.event!.state],
            reason: undefined,
            terminal: r.event!.terminal,
            providerCode: r.event!.providerCode,
          });
          if (rows.length === 2) void first.stop();
        }
      })(),
    );
    const failure = await interrupted;
    expect(failure.code).toBe("unavailable");
    expect(failure.message).toContain(`after_sequence=${rows[1]!.sequence}`);
    await first.stop();
    c1.close();

    // The carrier tries RINGING while we are down: refused, so it will retry.
    await carrier.scheduler.runNext();
    expect(carrier.network.pendingCount).toBeGreaterThan(0);

    const second = await startTestServer(carrier, env);
    await carrier.scheduler.runAll();
    const c2 = grpcJsClient(second.grpcUrl);
    const got = await c2.getCall(sent.callId);
    expect(got.events.map((e) => CallState[e.state])).toEqual([
      "ACCEPTED",
      "DIALING",
      "RINGING",
      "ANSWERED",
      "COMPLETED",
    ]);
    expect(got.call?.state).toBe(CallState.COMPLETED);

    const resumed = await collect(
      c2.watch({ target: { case: "callId", value: sent.callId }, afterSequence: BigInt(rows[1]!.sequence) }),
    );
    expect(resumed.map((r) => r.state)).toEqual(["RINGING", "ANSWERED", "COMPLETED"]);
    const replay = await collect(c2.watch({ target: { case: "clientReference", value: "r" } }), 5);
    expect(replay.map((r) => r.sequence)).toEqual(got.events.map((e) => Number(e.sequence)));

    c2.close();
    await second.stop();
    carrier.network.close();
  });

  it("the sandbox finishes, after a restart, the calls whose callbacks died with the process", async () => {
    const env = { VOICECODE_DB_PATH: join(dir, "resume.db") };
    const before = createCarrier();
    const first = await startTestServer(before, env);
    const c1 = grpcJsClient(first.grpcUrl);
    const placed = await c1.send({ phoneNumber: "+8613711112222", code: "1234" });
    const busy = await c1.send({ phoneNumber: "+8613711110001", code: "1234" });
    const lost = await c1.send({ phoneNumber: "+8613711110009", code: "1234" });
    expect(lost.state).toBe(CallState.PENDING);
    await before.scheduler.runNext(); // the first call's DIALING is delivered and stored
    c1.close();
    await first.stop();
    // The process is gone, and its carrier's timers with it.
    before.network.close();

    const after = createCarrier();
    const second = await startTestServer(after, env);
    await after.scheduler.runAll();
    const c2 = grpcJsClient(second.grpcUrl);
    const states = async (callId: string) =>
      (await c2.getCall(callId)).events.map((e) => `${CallState[e.state]} ${e.providerCode}`);
    expect(await states(placed.callId)).toEqual(["ACCEPTED 200", "DIALING 100", "RINGING 180", "ANSWERED 200", "COMPLETED 200"]);
    expect(await states(busy.callId)).toEqual(["ACCEPTED 200", "DIALING 100", "FAILED 486"]);
    expect(await states(lost.callId)).toEqual(["DIALING 100", "RINGING 180", "ANSWERED 200", "COMPLETED 200"]);
    expect((await c2.getCall(lost.callId)).call?.providerCallId).toMatch(/^sbx_/);
    c2.close();
    await second.stop();
    after.network.close();
  });
});
