/**
 * Provider pushes as they may really come, through the real server and each provider's
 * contract fake: Kingsoft's batch printed as its doc prints it (trailing commas) and
 * with the fields we never read left out, a report we cannot use, and Huawei's
 * `disconnect` without its hang-up cause, plus a Huawei refusal that quotes our request.
 */
import net from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import { encodeCallbackUrl } from "../../src/providers/huawei/callback-url.js";
import { capture } from "../cli/capture.js";
import { type HuaweiFake, startHuaweiFake } from "../fakes/huawei.js";
import { type KingsoftFake, startKingsoftFake } from "../fakes/kingsoft.js";
import { type TestServer, createCarrier, startTestServer } from "../support/test-server.js";

const TOKEN = "e2e-quirks-token-0123456789";
const KINGSOFT_ACK = '{"code":0,"msg":"success"}';

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout, stderr, env: {}, signal: AbortSignal.timeout(10_000) });
  return { code, out: stdout.lines(), err: stderr.text() };
}

async function send(addr: string[], provider: string, to: string): Promise<string> {
  const sent = await cli(["send", ...addr, "--provider", provider, "--to", to, "--code", "4821", "--json"]);
  expect(sent.err).toBe("");
  return (JSON.parse(sent.out[0] ?? "{}") as { callId: string }).callId;
}

/** A port free right now (the webhook server binds it next; loopback only). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("kingsoft pushes as printed in its doc, through the real server", () => {
  let fake: KingsoftFake;
  let server: TestServer;
  const carrier = createCarrier();
  let addr: string[];

  beforeAll(async () => {
    fake = await startKingsoftFake({ stepMs: 5 });
    server = await startTestServer(carrier, { ...fake.env, VOICECODE_KINGSOFT_WEBHOOK_TOKEN: TOKEN });
    fake.setCallbackUrl(`${server.webhookUrl}/webhooks/kingsoft/${TOKEN}`);
    addr = ["--addr", server.grpcUrl];
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
    carrier.network.close();
  });

  it("a batch with trailing commas and without the fields we never read is acknowledged and applied", async () => {
    fake.shapeReports({ printAsDoc: true, omit: ["StartTime", "Duration", "Mobile", "PressKey", "Caller", "CallerDisplay", "VoiceType"] });
    fake.batchNext(2);
    const completed = await send(addr, "kingsoft", "+8613711112222");
    const refused = await send(addr, "kingsoft", "+8613711110005");
    await fake.settled();
    fake.shapeReports({});
    expect(fake.deliveries.at(-1)).toMatchObject({ status: 200, acked: true });
    expect(fake.deliveries.at(-1)?.body).toContain(",\n    }");
    expect(await server.store.getCall(completed)).toMatchObject({ state: CallState.COMPLETED });
    // The doc's example pairing: ErrCode 480 with ErrDesc 用户拒接.
    expect(await server.store.getCall(refused)).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.REJECTED });
  });

  it("the doc's example push, bytes as printed, is acknowledged with the documented answer", async () => {
    const seed = readFileSync(new URL("../providers/kingsoft/vectors/seed-002-status-push.txt", import.meta.url), "utf8");
    expect(await fake.pushRaw(seed)).toEqual({ status: 200, body: KINGSOFT_ACK });
  });

  it("a report we cannot use is acknowledged, the good one beside it applied, and it is counted", async () => {
    const callId = await send(addr, "kingsoft", "+8613711110001");
    await fake.settled();
    const [report] = JSON.parse(fake.deliveries.at(-1)?.body ?? "[]") as Record<string, unknown>[];
    const before = await server.store.listEvents({ callId }, 0, 100);
    const unusable = { ...report, CallId: "", ErrDesc: "呼叫 13711110001 失败" };
    const reply = await fake.pushRaw(JSON.stringify([unusable, { ...report, Status: "SUCCESS", ErrCode: "SUCCESS" }]));
    expect(reply).toEqual({ status: 200, body: KINGSOFT_ACK });
    // The good report (a contradicting late SUCCESS) was applied as far as the model allows: stale.
    expect(await server.store.listEvents({ callId }, 0, 100)).toEqual(before);
    const metrics = await (await fetch(`${server.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/voicecode_webhook_unreadable_reports_total\{provider="kingsoft"\} 1\b/);
  });

  it("a body with no reports in it is still refused", async () => {
    expect((await fake.pushRaw('[{"Status":')).status).toBe(400);
  });
});

describe("huawei disconnect without stateCode, through the real server", () => {
  let fake: HuaweiFake;
  let server: TestServer;
  const carrier = createCarrier();
  let addr: string[];
  let callbackUrl: string;

  beforeAll(async () => {
    fake = await startHuaweiFake({ stepMs: 5 });
    const port = await freePort();
    server = await startTestServer(carrier, {
      ...fake.env,
      VOICECODE_HUAWEI_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_WEBHOOK_PORT: String(port),
      VOICECODE_WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    callbackUrl = `${server.webhookUrl}/webhooks/huawei/${TOKEN}`;
    fake.setCallbackUrl(callbackUrl);
    addr = ["--addr", server.grpcUrl];
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
    carrier.network.close();
  });

  it("is acknowledged and fails the call at once; the CDR then gives the reason", async () => {
    fake.dropStateCodeNext();
    const callId = await send(addr, "huawei", "+8613711110001");
    const watched = await cli(["watch", ...addr, callId, "--json"]);
    expect(watched.code).toBe(3); // the CLI exits 3 for a call that ended FAILED
    const events = watched.out.map((l) => JSON.parse(l) as { state: string; failureReason?: string; provisional?: boolean; terminal?: boolean });
    expect(events.map((e) => [e.state, e.failureReason ?? "", e.provisional === true, e.terminal === true])).toEqual([
      ["CALL_STATE_ACCEPTED", "", false, false],
      ["CALL_STATE_DIALING", "", false, false],
      ["CALL_STATE_FAILED", "FAILURE_REASON_UNKNOWN", true, false],
      ["CALL_STATE_FAILED", "FAILURE_REASON_BUSY", false, true],
    ]);
    expect(fake.deliveries.every((d) => d.status === 200)).toBe(true);
    expect(await server.store.getCall(callId)).toMatchObject({ state: CallState.FAILED, failureReason: FailureReason.BUSY, reasonProvisional: false });
  });

  it("a refusal quoting our request keeps no trace of the webhook token in GetCall", async () => {
    fake.failNext("quote-request");
    const callId = await send(addr, "huawei", "+8613711112222");
    const got = await cli(["get", ...addr, callId, "--json"]);
    expect(got.code).toBe(0);
    const text = got.out.join("\n");
    expect(text).toMatch(/statusUrl/);
    expect(text).not.toContain(TOKEN);
    const encoded = encodeCallbackUrl(callbackUrl);
    for (let i = 0; i + 12 <= encoded.length; i++) expect(text).not.toContain(encoded.slice(i, i + 12));
  });
});
