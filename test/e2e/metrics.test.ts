import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENTS, type TestClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { metricValue } from "../support/server-process.js";
import { useTestServer } from "../support/test-server.js";

// /metrics after real Sends through the real server: label values are the README's
// names (ACCEPTED, FAILED, PENDING; COMPLETED, FAILED with BUSY...).
const fixture = useTestServer();

describe("metrics on the API port", () => {
  let client: TestClient;
  beforeAll(() => {
    client = CLIENTS[0]!.make(fixture.server);
  });
  afterAll(() => client.close());

  const value = (name: string, labels: Record<string, string>) => metricValue(fixture.server.apiUrl, name, labels);
  const sends = (outcome: string) => value("voicecode_sends_total", { provider: "sandbox", outcome });
  const finished = (labels: Record<string, string>) =>
    value("voicecode_calls_finished_total", { provider: "sandbox", ...labels });

  it("counts Sends by the state Send returned, with the README's names", async () => {
    const before = {
      accepted: await sends("ACCEPTED"),
      failed: await sends("FAILED"),
      pending: await sends("PENDING"),
      replayed: await sends("REPLAYED"),
    };
    await client.send({ phoneNumber: "+8613711112222", code: "1234", idempotencyKey: "metrics-1" });
    await client.send({ phoneNumber: "+8613711112222", code: "1234", idempotencyKey: "metrics-1" });
    await client.send({ phoneNumber: "+8613711110007", code: "1234" });
    await client.send({ phoneNumber: "+8613711110009", code: "1234" });
    expect((await sends("ACCEPTED")) - before.accepted).toBe(1);
    expect((await sends("REPLAYED")) - before.replayed).toBe(1);
    expect((await sends("FAILED")) - before.failed).toBe(1);
    expect((await sends("PENDING")) - before.pending).toBe(1);
    const text = await (await fetch(`${fixture.server.apiUrl}/metrics`)).text();
    expect(text).not.toMatch(/outcome="(accepted|rejected|ambiguous|replayed|error)"/);
    await fixture.carrier.scheduler.runAll();
  });

  it("has Send and provider request latency histograms", async () => {
    const count = (name: string) => value(`${name}_count`, { provider: "sandbox", outcome: "ACCEPTED" });
    const sendBefore = await count("voicecode_send_duration_seconds");
    const providerBefore = await count("voicecode_provider_request_duration_seconds");
    await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    expect((await count("voicecode_send_duration_seconds")) - sendBefore).toBe(1);
    expect((await count("voicecode_provider_request_duration_seconds")) - providerBefore).toBe(1);
    const inf = await value("voicecode_send_duration_seconds_bucket", { provider: "sandbox", outcome: "ACCEPTED", le: "+Inf" });
    expect(inf).toBe(await count("voicecode_send_duration_seconds"));
    await fixture.carrier.scheduler.runAll();
  });

  it("counts each call once when it reaches its terminal state, by state and reason", async () => {
    const completedBefore = await finished({ state: "COMPLETED" });
    const busyBefore = await finished({ state: "FAILED", reason: "BUSY" });
    const limitedBefore = await finished({ state: "FAILED", reason: "RATE_LIMITED" });

    const ok = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    const busy = await client.send({ phoneNumber: "+8613711110001", code: "1234" });
    await client.send({ phoneNumber: "+8613711110007", code: "1234" }); // refused at Send
    const watched = [ok, busy].map((s) => collect(client.watch({ target: { case: "callId", value: s.callId } })));
    await fixture.carrier.scheduler.runAll();
    await Promise.all(watched);

    expect((await finished({ state: "COMPLETED" })) - completedBefore).toBe(1);
    expect((await finished({ state: "FAILED", reason: "BUSY" })) - busyBefore).toBe(1);
    expect((await finished({ state: "FAILED", reason: "RATE_LIMITED" })) - limitedBefore).toBe(1);
  });
});
