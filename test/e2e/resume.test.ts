import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENTS, type TestClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { useTestServer } from "../support/test-server.js";

const fixture = useTestServer();

describe.each(CLIENTS)("$name: resuming a watch", ({ make }) => {
  let client: TestClient;
  beforeAll(() => {
    client = make(fixture.server);
  });
  afterAll(() => client.close());

  it("a watcher that reconnects with after_sequence gets exactly the events it missed", async () => {
    const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    const target = { case: "callId" as const, value: sent.callId };

    // First connection: ACCEPTED (stored) and DIALING (delivered while watching).
    const abort = new AbortController();
    const first = collect(client.watch({ target }, abort.signal), 2);
    await fixture.carrier.scheduler.runNext();
    const seen = await first;
    abort.abort();
    expect(seen.map((r) => r.state)).toEqual(["ACCEPTED", "DIALING"]);

    // Disconnected while the rest of the call happens.
    await fixture.carrier.scheduler.runAll();

    const resumed = await collect(client.watch({ target, afterSequence: BigInt(seen[1]!.sequence) }));
    expect(resumed.map((r) => r.state)).toEqual(["RINGING", "ANSWERED", "COMPLETED"]);

    const all = await client.getCall(sent.callId);
    expect([...seen, ...resumed].map((r) => r.sequence)).toEqual(all.events.map((e) => Number(e.sequence)));
  });

  it("resuming after the terminal event ends at once with nothing", async () => {
    const sent = await client.send({ phoneNumber: "+8613711110003", code: "1234" });
    await fixture.carrier.scheduler.runAll();
    const all = await client.getCall(sent.callId);
    const last = all.events.at(-1)!.sequence;
    const rows = await collect(client.watch({ target: { case: "callId", value: sent.callId }, afterSequence: last }));
    expect(rows).toEqual([]);
  });

  it("a client-reference watch replays then goes live across several calls, no gap, no duplicate", async () => {
    const ref = `batch-${Math.random().toString(36).slice(2)}`;
    const a = await client.send({ phoneNumber: "+8613711112222", code: "1111", clientReference: ref });
    await fixture.carrier.scheduler.runNext(); // some of call A is history before the watch starts
    const abort = new AbortController();
    const watched = collect(client.watch({ target: { case: "clientReference", value: ref } }, abort.signal), 8);
    const b = await client.send({ phoneNumber: "+8613711110001", code: "2222", clientReference: ref });
    await fixture.carrier.scheduler.runAll();
    const rows = await watched;
    abort.abort();

    const sequences = rows.map((r) => r.sequence);
    expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(8);
    const stored = [
      ...(await client.getCall(a.callId)).events,
      ...(await client.getCall(b.callId)).events,
    ].map((e) => Number(e.sequence));
    expect([...sequences].sort((x, y) => x - y)).toEqual(stored.sort((x, y) => x - y));
    expect(rows.filter((r) => r.callId === a.callId).map((r) => r.state)).toEqual([
      "ACCEPTED",
      "DIALING",
      "RINGING",
      "ANSWERED",
      "COMPLETED",
    ]);
  });
});
