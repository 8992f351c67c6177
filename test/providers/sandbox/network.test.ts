import { afterEach, describe, expect, it } from "vitest";
import { CallState } from "../../../src/core/model.js";
import { createSandboxNetwork } from "../../../src/providers/sandbox/network.js";
import { createRealtimeScheduler } from "../../../src/providers/sandbox/scheduler.js";
import { createSandboxWebhook } from "../../../src/providers/sandbox/webhook.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";
import { numberEnding, startHarness, type Harness } from "./harness.js";

const { DIALING, RINGING, ANSWERED, COMPLETED } = CallState;
const FULL_CALL = [DIALING, RINGING, ANSWERED, COMPLETED];

const toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of toClose.splice(0)) await item.close();
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  toClose.push(h);
  return h;
}

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(createSandboxWebhook());
  toClose.push({ close: () => r.stop() });
  return r;
}

function place(h: Harness, callId = "call-1", suffix = "1234"): void {
  h.network.placeCall({ callId, providerCallId: `sbx_${callId}`, phoneNumber: numberEnding(suffix), playTimes: 1 });
}

const eventOf = (body: string): string => (JSON.parse(body) as { event: string }).event;

describe("sandbox network delivery", () => {
  it("retries a push answered 500 with backoff, resends it verbatim and holds later pushes back", async () => {
    const h = await harness();
    const at: number[] = [];
    h.receiver.onRequest = () => at.push(h.scheduler.now);
    h.receiver.answers.push(500, 503);
    place(h);
    await h.scheduler.runAll();

    expect(h.receiver.bodies.map(eventOf)).toEqual(["dialing", "dialing", "dialing", "ringing", "answered", "completed"]);
    expect(h.receiver.bodies[0]).toBe(h.receiver.bodies[2]);
    expect(h.receiver.events.map((e) => e.state)).toEqual(FULL_CALL);
    // First retry after 1 s, the next after 2 s; the next step only after the ack.
    expect(at.slice(0, 4)).toEqual([800, 1800, 3800, 4600]);
    expect(h.deliveryErrors.map((e) => [e.event, e.attempt, e.willRetry])).toEqual([
      ["dialing", 1, true],
      ["dialing", 2, true],
    ]);
    expect(String(h.deliveryErrors[0]?.cause)).toContain("HTTP 500");
  });

  it("keeps each call's order while another call is delivered meanwhile", async () => {
    const h = await harness();
    h.receiver.answers.push(500);
    place(h, "a");
    place(h, "b");
    await h.scheduler.runAll();
    const states = (callId: string) => h.receiver.events.filter((e) => e.callId === callId).map((e) => e.state);
    expect(states("a")).toEqual(FULL_CALL);
    expect(states("b")).toEqual(FULL_CALL);
    // b's dialing is acknowledged while a's is still waiting for its retry.
    expect(h.receiver.events[0]?.callId).toBe("b");
  });

  it("delivers after the receiver was down (connection refused) and came back", async () => {
    const h = await harness();
    await h.receiver.stop();
    place(h);
    await h.scheduler.runNext();
    expect(h.deliveryErrors).toHaveLength(1);
    expect(h.deliveryErrors[0]?.willRetry).toBe(true);

    await h.receiver.start();
    await h.scheduler.runAll();
    expect(h.receiver.events.map((e) => e.state)).toEqual(FULL_CALL);
    expect(h.network.pendingCount).toBe(0);
  });

  it("gives up on a push after maxAttempts and still delivers the call's later pushes", async () => {
    const h = await harness({ maxAttempts: 3 });
    h.receiver.answers.push(500, 500, 500);
    place(h);
    await h.scheduler.runAll();
    expect(h.receiver.events.map((e) => e.state)).toEqual([RINGING, ANSWERED, COMPLETED]);
    expect(h.deliveryErrors.at(-1)).toMatchObject({ event: "dialing", attempt: 3, willRetry: false });
    expect(h.network.pendingCount).toBe(0);
  });

  it("resolves the callback URL at delivery time", async () => {
    const h = await harness();
    const other = await receiver();
    place(h);
    await h.scheduler.runNext();
    await h.scheduler.runNext();
    h.setUrl(other.url);
    await h.scheduler.runAll();
    expect(h.receiver.events.map((e) => e.state)).toEqual([DIALING, RINGING]);
    expect(other.events.map((e) => e.state)).toEqual([ANSWERED, COMPLETED]);
  });

  it("retries while no callback URL is known yet", async () => {
    const h = await harness();
    h.setUrl(undefined);
    place(h);
    await h.scheduler.runNext();
    expect(String(h.deliveryErrors[0]?.cause)).toContain("no callback URL");
    h.setUrl(h.receiver.url);
    await h.scheduler.runAll();
    expect(h.receiver.events.map((e) => e.state)).toEqual(FULL_CALL);
  });

  it("times out a receiver that never answers, then retries", async () => {
    const h = await harness({ requestTimeoutMs: 100 });
    h.receiver.answers.push("hang");
    place(h);
    await h.scheduler.runAll();
    expect(h.deliveryErrors).toHaveLength(1);
    expect((h.deliveryErrors[0]!.cause as Error).name).toBe("TimeoutError");
    expect(h.receiver.events.map((e) => e.state)).toEqual(FULL_CALL);
  });
});

describe("sandbox network lifecycle", () => {
  it("idle() resolves once every push is acknowledged", async () => {
    const h = await harness();
    await h.network.idle();
    place(h);
    let idle = false;
    const done = h.network.idle().then(() => {
      idle = true;
    });
    await h.scheduler.runNext();
    await Promise.resolve();
    expect(idle).toBe(false);
    expect(h.network.pendingCount).toBe(3);
    await h.scheduler.runAll();
    await done;
    expect(h.receiver.events).toHaveLength(4);
  });

  it("close() cancels scheduled pushes, releases idle() and refuses new calls", async () => {
    const h = await harness();
    place(h);
    await h.scheduler.runNext();
    const idle = h.network.idle();
    h.network.close();
    await idle;
    expect(h.network.pendingCount).toBe(0);
    expect(h.scheduler.pendingCount).toBe(0);
    expect(() => place(h, "later")).toThrow(/closed/);
    expect(h.receiver.events).toHaveLength(1);
  });

  it("close() aborts a push in flight and schedules nothing after it", async () => {
    const h = await harness();
    h.receiver.answers.push("hang");
    place(h);
    const firing = h.scheduler.runNext();
    await new Promise<void>((resolve) => (h.receiver.onRequest = () => resolve()));
    h.network.close();
    await firing;
    expect(h.scheduler.pendingCount).toBe(0);
    expect(h.deliveryErrors).toEqual([]);
  });

  it("runs on real timers too: a quick call completes and idle() resolves", async () => {
    const r = await receiver();
    const network = createSandboxNetwork({ callbackUrl: () => r.url, scheduler: createRealtimeScheduler(), stepDelayMs: 1 });
    toClose.push({ close: async () => network.close() });
    network.placeCall({ callId: "c", providerCallId: "sbx_c", phoneNumber: numberEnding("0005"), playTimes: 1 });
    await network.idle();
    expect(r.events.map((e) => e.state)).toEqual([DIALING, RINGING, CallState.FAILED]);
  });
});
