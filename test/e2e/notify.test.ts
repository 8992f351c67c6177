/**
 * Notify end to end on the real server: a notification and an IVR call on the sandbox,
 * the key press reaching a watcher over gRPC and Connect; the same idempotency and
 * limits as Send; a provider without notifications refused by name; and Kingsoft
 * through its contract fake, whose mixed batch push (verification and notification
 * reports, with and without a key press) lands each report on its call, acked once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallKind, CallState } from "../../gen/voicecode/v1/voicecode_pb.js";
import { runCli } from "../../src/cli/main.js";
import { capture } from "../cli/capture.js";
import { KINGSOFT_FAKE_TEMPLATES, type KingsoftFake, startKingsoftFake } from "../fakes/kingsoft.js";
import { type TencentFake, startTencentFake } from "../fakes/tencent.js";
import { CLIENTS, type TestClient, failureOf } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { type TestServer, createCarrier, startTestServer, useTestServer } from "../support/test-server.js";

const fixture = useTestServer();

describe.each(CLIENTS)("$name: Notify on the sandbox", ({ make }) => {
  let client: TestClient;
  beforeAll(() => {
    client = make(fixture.server);
  });
  afterAll(() => client.close());

  it("an IVR call: the watcher receives the pressed key with the terminal event", async () => {
    const sent = await client.notify({
      phoneNumber: "+8613711112223",
      templateName: "delivery",
      templateParams: { id: "SF1234" },
      collectKeyPress: true,
      clientReference: "parcel-1",
    });
    expect(sent).toMatchObject({ provider: "sandbox", state: CallState.ACCEPTED });
    const watched = collect(client.watch({ target: { case: "callId", value: sent.callId } }));
    await fixture.carrier.scheduler.runAll();
    const rows = await watched;
    expect(rows.map((r) => [r.state, r.pressedKey])).toEqual([
      ["ACCEPTED", undefined],
      ["DIALING", undefined],
      ["RINGING", undefined],
      ["ANSWERED", undefined],
      ["COMPLETED", "3"],
    ]);
    const got = await client.getCall(sent.callId);
    expect(got.call).toMatchObject({ kind: CallKind.IVR, templateName: "delivery", clientReference: "parcel-1" });
    const last = got.events.at(-1);
    expect(last?.pressedKey).toBe("3");
    expect(last?.durationSeconds).toBeGreaterThan(0);
    expect(last?.answerTime).toBeDefined();
    expect(last?.endTime).toBeDefined();
  });

  it("a plain notification has no key press; a number ending 0000 presses none on IVR", async () => {
    const plain = await client.notify({ phoneNumber: "+8613711112227", templateName: "shipped" });
    const silent = await client.notify({ phoneNumber: "+8613711110000", templateName: "confirm", collectKeyPress: true });
    await fixture.carrier.scheduler.runAll();
    for (const callId of [plain.callId, silent.callId]) {
      const got = await client.getCall(callId);
      expect(got.call?.state).toBe(CallState.COMPLETED);
      expect(got.events.map((e) => e.pressedKey)).toEqual(["", "", "", "", ""]);
    }
    expect((await client.getCall(plain.callId)).call?.kind).toBe(CallKind.NOTIFICATION);
  });

  it("shares Send's idempotency: a replay returns the call, a Send reusing the key is ALREADY_EXISTS", async () => {
    const key = `notify-${client.name.replace(/\W/g, "")}`;
    const init = { phoneNumber: "+8613711112224", templateName: "delivery", templateParams: { id: "1" }, idempotencyKey: key };
    const first = await client.notify(init);
    const again = await client.notify(init);
    expect(again).toMatchObject({ callId: first.callId, idempotentReplay: true });
    expect(await failureOf(client.notify({ ...init, templateParams: { id: "2" } }))).toMatchObject({
      code: "already_exists",
    });
    expect(await failureOf(client.send({ phoneNumber: init.phoneNumber, code: "1234", idempotencyKey: key }))).toMatchObject({
      code: "already_exists",
      message: expect.stringMatching(/^idempotency_key: /),
    });
    await fixture.carrier.scheduler.runAll();
  });

  it("names the bad field", async () => {
    expect(await failureOf(client.notify({ phoneNumber: "+8613711112222", templateName: "" }))).toEqual({
      code: "invalid_argument",
      message: "template_name: is required",
    });
    expect(
      await failureOf(client.notify({ phoneNumber: "+8613711112222", templateName: "x", displayNumber: "12a" })),
    ).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^display_number: /) });
  });
});

describe("Notify counts against Send's limits", () => {
  const limited = createCarrier();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(limited, { VOICECODE_NUMBER_LIMITS: "1/1m" });
  });
  afterAll(async () => {
    await server.stop();
    limited.network.close();
  });

  it("a Notify after a Send to the same number within the minute is RESOURCE_EXHAUSTED, and the other way round", async () => {
    const client = CLIENTS[0]!.make(server);
    try {
      await client.send({ phoneNumber: "+8613722220001", code: "1234" });
      expect(await failureOf(client.notify({ phoneNumber: "+8613722220001", templateName: "t" }))).toMatchObject({
        code: "resource_exhausted",
      });
      await client.notify({ phoneNumber: "+8613722220002", templateName: "t" });
      expect(await failureOf(client.send({ phoneNumber: "+8613722220002", code: "1234" }))).toMatchObject({
        code: "resource_exhausted",
      });
    } finally {
      client.close();
      await limited.scheduler.runAll();
    }
  });
});

describe("Kingsoft notifications through the contract fake", () => {
  const TOKEN = "e2e-notify-token-0123456789";
  const carrier = createCarrier();
  let kingsoft: KingsoftFake;
  let tencent: TencentFake;
  let server: TestServer;
  let client: TestClient;

  beforeAll(async () => {
    kingsoft = await startKingsoftFake({ stepMs: 5 });
    tencent = await startTencentFake({ stepMs: 5 });
    server = await startTestServer(carrier, {
      ...kingsoft.env,
      ...tencent.env,
      VOICECODE_KINGSOFT_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_TENCENT_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_KINGSOFT_TEMPLATES: JSON.stringify({
        delivery: { id: "200001", text: KINGSOFT_FAKE_TEMPLATES["200001"] },
        shipped: "200002",
      }),
    });
    kingsoft.setCallbackUrl(`${server.webhookUrl}/webhooks/kingsoft/${TOKEN}`);
    client = CLIENTS[1]!.make(server);
  });
  afterAll(async () => {
    client.close();
    await server.stop();
    await kingsoft.close();
    await tencent.close();
    carrier.network.close();
  });

  it("one mixed batch push lands each report on its call, key press included, acked once", async () => {
    const deliveriesBefore = kingsoft.deliveries.length;
    kingsoft.batchNext(3);
    const code = await client.send({ phoneNumber: "+8613711112222", code: "4821", provider: "kingsoft" });
    const note = await client.notify({ phoneNumber: "+8613711112225", templateName: "shipped", templateParams: { order: "42" }, provider: "kingsoft" });
    const ivr = await client.notify({
      phoneNumber: "+8613711112221",
      templateName: "delivery",
      templateParams: { id: "SF1234" },
      collectKeyPress: true,
      provider: "kingsoft",
    });
    const watched = collect(client.watch({ target: { case: "callId", value: ivr.callId } }));
    await kingsoft.settled();
    const pushes = kingsoft.deliveries.slice(deliveriesBefore);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.acked).toBe(true);
    const batch = JSON.parse(pushes[0]?.body ?? "[]") as { VoiceType: number; PressKey: string; ExtId: string; Duration: number }[];
    expect(batch.map((r) => [r.ExtId, r.VoiceType, r.PressKey])).toEqual([
      [code.callId, 1, ""],
      [note.callId, 2, ""],
      [ivr.callId, 2, "1"],
    ]);
    expect(kingsoft.notifications.map((n) => n.action)).toEqual(["CallNotify", "CallIvr"]);

    expect((await watched).map((r) => [r.state, r.pressedKey])).toEqual([
      ["ACCEPTED", undefined],
      ["ANSWERED", undefined],
      ["COMPLETED", "1"],
    ]);
    const kinds = await Promise.all([code, note, ivr].map(async (c) => (await client.getCall(c.callId)).call));
    expect(kinds.map((c) => [c?.kind, c?.state])).toEqual([
      [CallKind.VERIFICATION, CallState.COMPLETED],
      [CallKind.NOTIFICATION, CallState.COMPLETED],
      [CallKind.IVR, CallState.COMPLETED],
    ]);
    const final = (await client.getCall(ivr.callId)).events.at(-1);
    expect(final).toMatchObject({ pressedKey: "1", durationSeconds: batch[2]?.Duration });
    expect(final?.durationSeconds).toBeGreaterThan(0);
  });

  it("a provider without notifications is FAILED_PRECONDITION naming it", async () => {
    expect(await failureOf(client.notify({ phoneNumber: "+8613711112222", templateName: "delivery", provider: "tencent" }))).toEqual({
      code: "failed_precondition",
      message: "provider: tencent places no notification calls",
    });
    expect(
      await failureOf(client.notify({ phoneNumber: "+8613711112222", templateName: "d", provider: "tencent", collectKeyPress: true })),
    ).toMatchObject({ message: "provider: tencent places no IVR (key press) calls" });
  });

  it("an unmapped template is refused before the network, naming the field", async () => {
    const before = kingsoft.requests.length;
    expect(await failureOf(client.notify({ phoneNumber: "+8613711112222", templateName: "welcome", provider: "kingsoft" }))).toEqual({
      code: "invalid_argument",
      message: "template_name: kingsoft has no template of that name; configured: delivery, shipped",
    });
    expect(kingsoft.requests.length).toBe(before);
  });
});

describe("voicecode notify", () => {
  const cli = async (argv: string[]) => {
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(argv, { stdout, stderr, env: {}, signal: AbortSignal.timeout(10_000) });
    return { code, out: stdout.lines(), err: stderr.text() };
  };

  it("places an IVR call; watch shows the key pressed; get shows the template; --param values are never printed", async () => {
    const addr = ["--addr", fixture.server.grpcUrl];
    const sent = await cli(["notify", ...addr, "--to", "+8613711112226", "--template", "delivery", "--param", "id=SF98765", "--ivr"]);
    expect(sent).toMatchObject({ code: 0, err: "" });
    expect(sent.out[0]).toMatch(/^call (\w{26}) via sandbox \(provider id sbx_\w+\) ACCEPTED$/);
    const callId = sent.out[0]?.split(" ")[1] ?? "";
    await fixture.carrier.scheduler.runAll();
    const watched = await cli(["watch", ...addr, callId]);
    expect(watched.code).toBe(0);
    expect(watched.out.at(-1)).toMatch(/COMPLETED {2}pressed "6"/);
    const got = await cli(["get", ...addr, callId]);
    expect(got.out).toContain("  template  delivery (IVR)");
    expect([...sent.out, ...watched.out, ...got.out, sent.err].join("\n")).not.toContain("SF98765");
  });

  it("refuses a missing --template as usage", async () => {
    const res = await cli(["notify", "--to", "+8613711112226"]);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/missing --template/);
  });
});
