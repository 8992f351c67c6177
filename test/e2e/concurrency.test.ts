import { describe, expect, it } from "vitest";
import { grpcJsClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { SANDBOX_TOKEN, useTestServer } from "../support/test-server.js";

const fixture = useTestServer();

function callback(providerCallId: string, callId: string, event: string, code: string) {
  return JSON.stringify({
    callId: providerCallId,
    userData: callId,
    event,
    code,
    text: event,
    timestamp: "2026-11-25T12:00:00Z",
  });
}

const post = (body: string) =>
  fetch(`${fixture.server.webhookUrl}/webhooks/sandbox/${SANDBOX_TOKEN}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });

describe("concurrency through the real ports", () => {
  it("the same callback delivered 20 times at once is stored once and acked every time", async () => {
    const client = grpcJsClient(fixture.server.grpcUrl);
    const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    const body = callback(sent.providerCallId, sent.callId, "ringing", "180");
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const got = await client.getCall(sent.callId);
    expect(got.events.map((e) => e.providerCode)).toEqual(["200", "180"]);
    client.close();
  });

  it("a reference watcher sees every event of 30 calls written in parallel, in order, once", async () => {
    const client = grpcJsClient(fixture.server.grpcUrl);
    const ref = "parallel";
    const abort = new AbortController();
    const calls = await Promise.all(
      Array.from({ length: 30 }, () => client.send({ phoneNumber: "+8613711112222", code: "1234", clientReference: ref })),
    );
    // 30 ACCEPTED + 30 x (dialing, ringing, answered, completed)
    const total = 30 * 5;
    const watching = collect(client.watch({ target: { case: "clientReference", value: ref } }, abort.signal), total);
    await Promise.all(
      calls.map(async (c) => {
        for (const [event, code] of [
          ["dialing", "100"],
          ["ringing", "180"],
          ["answered", "200"],
          ["completed", "200"],
        ] as const) {
          expect((await post(callback(c.providerCallId, c.callId, event, code))).status).toBe(200);
        }
      }),
    );
    const rows = await watching;
    abort.abort();
    const sequences = rows.map((r) => r.sequence);
    expect(new Set(sequences).size).toBe(total);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    for (const c of calls) {
      expect(rows.filter((r) => r.callId === c.callId).map((r) => r.state)).toEqual([
        "ACCEPTED",
        "DIALING",
        "RINGING",
        "ANSWERED",
        "COMPLETED",
      ]);
    }
    client.close();
    // The sandbox's own scripted callbacks for these calls arrive later as duplicates/stale.
    await fixture.carrier.scheduler.runAll();
  });
});
