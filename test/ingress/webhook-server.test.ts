import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalBus, type EventNotice } from "../../src/bus/bus.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import { type InboundEvent, type Provider, type ProviderWebhook, WebhookParseError } from "../../src/core/provider.js";
import { createWebhookServer, type WebhookServer } from "../../src/ingress/webhook-server.js";
import { createHuaweiWebhook } from "../../src/providers/huawei/webhook.js";
import { createKingsoftWebhook } from "../../src/providers/kingsoft/webhook.js";
import { createSandboxWebhook } from "../../src/providers/sandbox/webhook.js";
import { createTencentWebhook } from "../../src/providers/tencent/webhook.js";
import { createYtxWebhook } from "../../src/providers/ytx/webhook.js";
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

/** A provider around a real provider's webhook (its parser, ack and retry reply). */
const around = (name: string, webhook: ProviderWebhook): Provider => ({
  name,
  async send() {
    throw new Error("not used");
  },
  webhook,
});

/** The five real providers, routed exactly as the server routes them. */
const REAL_PROVIDERS = [
  around("sandbox", createSandboxWebhook()),
  around("tencent", createTencentWebhook()),
  around("ytx", createYtxWebhook()),
  around("kingsoft", createKingsoftWebhook()),
  around("huawei", createHuaweiWebhook()),
];

/** A parser with a bug: it throws something other than a WebhookParseError. */
let crash: () => never = () => {
  throw new TypeError("cannot read properties of undefined");
};
const crashy = around("crashy", { ...acme.webhook, parse: () => crash() });

let store: Store;
let server: WebhookServer;
let base: string;
let notices: EventNotice[];
let failStore: boolean;
/** Every webhook metric recorded, as [provider, result]. */
let counted: [string, string][];

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
  counted = [];
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
    routes: [acme, crashy, ...REAL_PROVIDERS].map((provider) => ({ provider, token: TOKEN })),
    store,
    bus,
    logger: pino({ level: "silent" }),
    metrics: { request: (provider, result) => counted.push([provider, result]) },
    // Room for bodies nested 50,000 levels deep.
    maxBodyBytes: 512 * 1024,
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

  it("refuses other methods and oversized bodies, counting both", async () => {
    expect((await fetch(`${base}/webhooks/acme/${TOKEN}`)).status).toBe(405);
    const res = await post(`/webhooks/acme/${TOKEN}`, "x".repeat(512 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(counted).toEqual([
      ["acme", "method_not_allowed"],
      ["acme", "malformed"],
    ]);
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

/** `depth` nested arrays / objects; optionally wrapped in a provider's own envelope. */
const nestedArrays = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
const nestedObjects = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** A body each provider would otherwise read, with one field nested `depth` levels deep. */
const PROVIDER_SHAPED: Readonly<Record<string, (deep: string) => string>> = {
  sandbox: (deep) => `{"callId":"c1","providerCallId":"p1","event":"ringing","code":${deep}}`,
  tencent: (deep) => `{"voicecode_callback":{"result":"0","callid":"p1","mobile":${deep}}}`,
  ytx: (deep) => `{"requestId":"2016010000000205","state":"answer","extra":${deep}}`,
  kingsoft: (deep) => `[{"CallId":"p1","Status":"SUCCESS","ErrCode":${deep}}]`,
  huawei: (deep) => `{"eventType":"callout","statusInfo":{"sessionId":"p1","userData":${deep}}}`,
};

describe("webhook ingress: deeply nested JSON", () => {
  // 4,113 levels is where ytx's parser overflowed the stack (answering 500, uncounted).
  const cases = REAL_PROVIDERS.flatMap((p) =>
    [4_113, 50_000].flatMap((depth) => [
      [p.name, `${depth} nested arrays`, nestedArrays(depth)],
      [p.name, `${depth} nested objects`, nestedObjects(depth)],
      [p.name, `its own envelope around ${depth} levels`, PROVIDER_SHAPED[p.name]?.(nestedObjects(depth)) ?? ""],
    ]),
  );

  it.each(cases)("%s answers 400 to %s, stores nothing and counts it as malformed", async (name, _what, body) => {
    const res = await post(`/webhooks/${name}/${TOKEN}`, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string };
    expect(json.error).toMatch(new RegExp(`^malformed ${name} callback: .*nested`));
    expect(counted).toEqual([[name, "malformed"]]);
    expect(order).toEqual([]);
    expect(notices).toEqual([]);
  });

  it.each(REAL_PROVIDERS.map((p) => p.name))("%s still reads a body nested 64 levels inside a string", async (name) => {
    // Brackets inside JSON strings are text, not nesting: never refused for them.
    const body = PROVIDER_SHAPED[name]?.(JSON.stringify("[".repeat(200))) ?? "";
    const res = await post(`/webhooks/${name}/${TOKEN}`, body);
    expect(res.status).not.toBe(500);
    expect(counted).toHaveLength(1);
    expect(counted[0]?.[1]).not.toBe("parser_error");
    if (res.status === 400) expect(((await res.json()) as { error: string }).error).not.toMatch(/nested/);
  });
});

describe("webhook ingress: a parser that throws something other than WebhookParseError", () => {
  it.each([
    ["a TypeError", () => new TypeError("cannot read properties of undefined")],
    ["a stack overflow", () => new RangeError("Maximum call stack size exceeded")],
    ["a thrown string", () => "not an Error at all"],
  ])("answers 500 with a JSON reason for %s and counts it", async (_name, thrown) => {
    crash = () => {
      throw thrown();
    };
    const res = await post(`/webhooks/crashy/${TOKEN}`, ringing);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "internal error" });
    expect(counted).toEqual([["crashy", "parser_error"]]);
    expect(order).toEqual([]);
    expect(notices).toEqual([]);
  });
});
