import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalBus, type EventNotice } from "../../src/bus/bus.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import { type InboundEvent, type Provider, WebhookParseError } from "../../src/core/provider.js";
import { createWebhookServer, type WebhookServer } from "../../src/ingress/webhook-server.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { testKeyring } from "../support/keyring.js";

const TOKEN = "t0ken-with-enough-entropy-123";
const order: string[] = [];

/** A provider with a trivial wire format: {"id","call","state"}; ack "OK!". */
const acme: Provider = {
  name: "acme",
  async send() {
    throw new Error("not used");
  },
  webhook: {
    parse(req): InboundEvent[] {
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString("utf8"));
      } catch {
        throw new WebhookParseError("not JSON");
      }
      const b = body as { id?: unknown; call?: unknown; state?: unknown };
      if (typeof b.id !== "string" || typeof b.call !== "string" || b.state !== "ringing") {
        throw new WebhookParseError("missing id/call/state");
      }
      return [
        {
          dedupeKey: `${b.id}:ringing`,
          providerCallId: b.id,
          callId: b.call,
          state: CallState.RINGING,
          failureReason: FailureReason.UNSPECIFIED,
          providerCode: "R",
          providerText: "ringing",
          occurredAtMs: undefined,
        },
      ];
    },
    ack: () => {
      order.push("ack");
      return { status: 200, headers: { "content-type": "text/plain" }, body: "OK!" };
    },
    retryLater: () => ({ status: 503, headers: { "content-type": "text/plain" }, body: "later" }),
  },
};

let store: Store;
let server: WebhookServer;
let base: string;
let notices: EventNotice[];
let failStore: boolean;

async function newCall(callId: string): Promise<void> {
  await store.createCall({
    callId,
    provider: "acme",
    phoneMasked: "+86*******2222",
    playTimes: 2,
    clientReference: "ref",
    metadata: {},
    idempotencyKey: "",
    requestHash: "h",
    nowMs: 1,
  });
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

beforeEach(async () => {
  order.length = 0;
  notices = [];
  failStore = false;
  const real = createSqliteStore({ path: ":memory:", keyring: testKeyring() });
  store = {
    ...real,
    createCall: (c) => real.createCall(c),
    recordSendResult: (...a) => real.recordSendResult(...a),
    getCall: (id) => real.getCall(id),
    listEvents: (...a) => real.listEvents(...a),
    close: () => real.close(),
    async ingest(provider, events, now) {
      if (failStore) throw new Error("disk full");
      const r = await real.ingest(provider, events, now);
      order.push("stored");
      return r;
    },
  };
  const bus = createLocalBus();
  bus.subscribe((n) => notices.push(n));
  server = createWebhookServer({
    routes: [{ provider: acme, token: TOKEN }],
    store,
    bus,
    logger: pino({ level: "silent" }),
    maxBodyBytes: 1024,
  });
  base = `http://127.0.0.1:${await server.listen("127.0.0.1", 0)}`;
  await newCall("c1");
});

afterEach(async () => {
  await server.close();
  await store.close();
});

const ringing = JSON.stringify({ id: "p1", call: "c1", state: "ringing" });

describe("webhook ingress", () => {
  it("stores an authenticated push, then acks in the provider's format, then wakes watchers", async () => {
    const res = await post(`/webhooks/acme/${TOKEN}`, ringing);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK!");
    expect(order).toEqual(["stored", "ack"]);
    const events = await store.listEvents({ callId: "c1" }, 0, 10);
    expect(events.map((e) => e.state)).toEqual([CallState.RINGING]);
    expect(notices.map((n) => n.sequence)).toEqual([events[0]?.sequence]);
  });

  it("accepts the token in the X-Voicecode-Token header", async () => {
    const res = await post("/webhooks/acme", ringing, { "x-voicecode-token": TOKEN });
    expect(res.status).toBe(200);
  });

  it.each([
    ["wrong token in path", "/webhooks/acme/wrong-token-wrong-token", {}],
    ["token prefix", `/webhooks/acme/${TOKEN.slice(0, -1)}`, {}],
    ["no token", "/webhooks/acme", {}],
    ["wrong header", "/webhooks/acme", { "x-voicecode-token": "nope" }],
  ])("refuses a forged push (%s) with 401 and stores nothing", async (_n, path, headers) => {
    const res = await post(path, ringing, headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "unauthorized" });
    expect(await store.listEvents({ callId: "c1" }, 0, 10)).toEqual([]);
    expect(order).toEqual([]);
  });

  it("answers 404 JSON for unknown providers and paths", async () => {
    for (const path of ["/webhooks/nope/x", "/", "/voicecode.v1.VoiceCode/Send", "/metrics"]) {
      const res = await post(path, ringing);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "not found" });
    }
  });

  it.each([
    ["not JSON", "{"],
    ["wrong shape", JSON.stringify({ id: 1 })],
  ])("refuses a malformed push (%s) with 400 and a JSON reason", async (_n, body) => {
    const res = await post(`/webhooks/acme/${TOKEN}`, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string };
    expect(json.error).toMatch(/^malformed acme callback: /);
    expect(await store.listEvents({ callId: "c1" }, 0, 10)).toEqual([]);
  });

  it("refuses other methods and oversized bodies", async () => {
    expect((await fetch(`${base}/webhooks/acme/${TOKEN}`)).status).toBe(405);
    const res = await post(`/webhooks/acme/${TOKEN}`, "x".repeat(2048));
    expect(res.status).toBe(413);
  });

  it("acks a retried push again but stores it once", async () => {
    expect((await post(`/webhooks/acme/${TOKEN}`, ringing)).status).toBe(200);
    expect((await post(`/webhooks/acme/${TOKEN}`, ringing)).status).toBe(200);
    expect(await store.listEvents({ callId: "c1" }, 0, 10)).toHaveLength(1);
    expect(notices).toHaveLength(1);
  });

  it("parks pushes for unknown calls instead of dropping them", async () => {
    const res = await post(`/webhooks/acme/${TOKEN}`, JSON.stringify({ id: "p9", call: "c9", state: "ringing" }));
    expect(res.status).toBe(200);
    await newCall("c9");
    const applied = await store.recordSendResult(
      "c9",
      { kind: "accepted", providerCallId: "p9", providerCode: "", providerText: "" },
      2,
    );
    expect(applied.events.map((e) => e.state)).toEqual([CallState.ACCEPTED, CallState.RINGING]);
  });

  it("does not ack when storing fails, so the provider retries", async () => {
    failStore = true;
    const res = await post(`/webhooks/acme/${TOKEN}`, ringing);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("later");
    expect(order).toEqual([]);
    expect(notices).toEqual([]);
  });
});
