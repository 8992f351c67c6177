/**
 * Each real provider's whole path through its contract fake: the CLI sends through the
 * adapter (signed request, verified by the fake), the fake pushes its documented
 * callbacks to our webhook port, and `voicecode watch` shows the lifecycle. Then the
 * ingress's promises per provider: retried and out-of-order callbacks change nothing,
 * malformed ones are refused, refusals end the call with the normalized reason.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import { capture } from "../cli/capture.js";
import type { ContractFake } from "../fakes/contract-fake.js";
import { HUAWEI_FAKE_OUTCOMES, startHuaweiFake } from "../fakes/huawei.js";
import { KINGSOFT_FAKE_OUTCOMES, startKingsoftFake } from "../fakes/kingsoft.js";
import type { FakeOutcomeTable } from "../fakes/outcomes.js";
import { TENCENT_FAKE_OUTCOMES, startTencentFake } from "../fakes/tencent.js";
import { YTX_FAKE_OUTCOMES, startYtxFake } from "../fakes/ytx.js";
import { metricValue } from "../support/server-process.js";

/** The adapter's Send outcome (the fakes' tables) as /metrics names it: the state Send returns. */
const SEND_OUTCOME_LABEL = { accepted: "ACCEPTED", rejected: "FAILED", ambiguous: "PENDING" } as const;
import { type TestServer, createCarrier, startTestServer } from "../support/test-server.js";

const TOKEN = "e2e-provider-token-0123456789";

/** What these tests use of a fake beyond ContractFake; every fake offers it. */
interface DrivableFake extends ContractFake {
  readonly deliveries: readonly { readonly body: string }[];
  pushRaw(body: string): Promise<{ status: number; body: string }>;
}

interface ProviderCase {
  readonly name: string;
  start(): Promise<DrivableFake>;
  /** Forces the fake's next API answer to a refusal with `reason`. */
  refuseNext(fake: DrivableFake): void;
  readonly refusalReason: FailureReason;
  /** Whether the adapter puts our call id in an echo field the fake records. */
  readonly echoes: boolean;
  /** The fake's outcome table, on the sandbox's endings. */
  readonly outcomes: FakeOutcomeTable;
  /**
   * Huawei takes its callback URLs with each request, built from the public webhook
   * URL, so its server gets a fixed port and that URL instead of setCallbackUrl.
   */
  readonly callbackUrlPerRequest?: boolean;
}

const CASES: readonly ProviderCase[] = [
  {
    name: "tencent",
    outcomes: TENCENT_FAKE_OUTCOMES,
    start: () => startTencentFake({ stepMs: 5 }),
    refuseNext: (fake) => (fake as Awaited<ReturnType<typeof startTencentFake>>).failNext("insufficient-balance"),
    refusalReason: FailureReason.INSUFFICIENT_BALANCE,
    echoes: true,
  },
  {
    name: "kingsoft",
    outcomes: KINGSOFT_FAKE_OUTCOMES,
    start: () => startKingsoftFake({ stepMs: 5 }),
    refuseNext: (fake) => (fake as Awaited<ReturnType<typeof startKingsoftFake>>).failNext("rate-limit"),
    refusalReason: FailureReason.RATE_LIMITED,
    echoes: true,
  },
  {
    name: "ytx",
    outcomes: YTX_FAKE_OUTCOMES,
    start: () => startYtxFake({ stepMs: 5 }),
    refuseNext: (fake) => (fake as Awaited<ReturnType<typeof startYtxFake>>).failNext("insufficient-balance"),
    refusalReason: FailureReason.INSUFFICIENT_BALANCE,
    echoes: false,
  },
  {
    name: "huawei",
    outcomes: HUAWEI_FAKE_OUTCOMES,
    start: () => startHuaweiFake({ stepMs: 5 }),
    refuseNext: (fake) => (fake as Awaited<ReturnType<typeof startHuaweiFake>>).failNext("rate-limit"),
    refusalReason: FailureReason.RATE_LIMITED,
    echoes: true,
    callbackUrlPerRequest: true,
  },
];

/** A port free right now (the webhook server binds it next; loopback only). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout, stderr, env: {}, signal: AbortSignal.timeout(10_000) });
  return { code, out: stdout.lines(), err: stderr.text() };
}

/** A StatusEvent as `voicecode watch --json` prints it (protobuf JSON). */
interface JsonEvent {
  readonly state: string;
  readonly failureReason?: string;
  readonly sequence: string;
  readonly terminal?: boolean;
  readonly provisional?: boolean;
}

describe.each(CASES)("$name through its contract fake", (tc) => {
  let fake: DrivableFake;
  let server: TestServer;
  const carrier = createCarrier();
  let addr: string[];

  beforeAll(async () => {
    fake = await tc.start();
    const port = tc.callbackUrlPerRequest === true ? await freePort() : 0;
    server = await startTestServer(carrier, {
      ...fake.env,
      [`VOICECODE_${tc.name.toUpperCase()}_WEBHOOK_TOKEN`]: TOKEN,
      ...(port === 0
        ? {}
        : { VOICECODE_WEBHOOK_PORT: String(port), VOICECODE_WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}` }),
    });
    // For Huawei this is only the fallback (and pushRaw's target); the lifecycle test
    // checks that each request carried the URL itself.
    fake.setCallbackUrl(`${server.webhookUrl}/webhooks/${tc.name}/${TOKEN}`);
    addr = ["--addr", server.grpcUrl];
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
    carrier.network.close();
  });

  /** `ends`: the watch's exit code, 0 for a COMPLETED call, 3 for a FAILED one. */
  const sendAndWatch = async (to: string, ends: 0 | 3): Promise<{ callId: string; events: JsonEvent[] }> => {
    const sent = await cli(["send", ...addr, "--provider", tc.name, "--to", to, "--code", "4821", "--json"]);
    expect(sent.err).toBe("");
    expect(sent.code).toBe(0);
    const callId = (JSON.parse(sent.out[0] ?? "{}") as { callId: string }).callId;
    const watched = await cli(["watch", ...addr, callId, "--json"]);
    expect(watched.code).toBe(ends);
    return { callId, events: watched.out.map((l) => JSON.parse(l) as JsonEvent) };
  };

  it("voicecode send places the call and voicecode watch shows the callbacks' lifecycle", async () => {
    const { callId, events } = await sendAndWatch("+8613711112222", 0);
    const states = events.map((e) => e.state);
    expect(states[0]).toBe("CALL_STATE_ACCEPTED");
    expect(states.at(-1)).toBe("CALL_STATE_COMPLETED");
    expect(states).toContain("CALL_STATE_ANSWERED");
    const sequences = events.map((e) => Number(e.sequence));
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);

    const placed = fake.calls.at(-1);
    expect(placed?.code).toBe("4821");
    if (tc.echoes) expect(placed?.echo).toBe(callId);
    if (tc.callbackUrlPerRequest === true) {
      expect(placed).toMatchObject({ statusUrl: `${server.webhookUrl}/webhooks/${tc.name}/${TOKEN}` });
    }
    expect((await server.store.getCall(callId))?.providerCallId).toBe(placed?.providerCallId);
  });

  // The sandbox's endings drive every fake (test/fakes/outcomes.ts): each row of the
  // fake's table, sent through the server, ends as the table says.
  it.for(Object.entries(tc.outcomes))("ending %s ends as the fake's outcome table says", async ([ending, outcome]) => {
    const to = ending === "other" ? "+8613711112222" : `+8613711${ending.padStart(6, "1")}`;
    const label = SEND_OUTCOME_LABEL[outcome.send];
    const sends = () => metricValue(server.apiUrl, "voicecode_sends_total", { provider: tc.name, outcome: label });
    const sendsBefore = await sends();
    const sent = await cli(["send", ...addr, "--provider", tc.name, "--to", to, "--code", "4821", "--json"]);
    const callId = (JSON.parse(sent.out[0] ?? "{}") as { callId: string }).callId;
    expect(await sends()).toBe(sendsBefore + 1);
    await fake.settled();
    const call = await server.store.getCall(callId);
    expect({ state: CallState[call?.state ?? 0], reason: FailureReason[call?.failureReason ?? 0] }).toEqual({
      state: outcome.finalState,
      reason: outcome.failureReason,
    });
  });

  it("a busy callee ends FAILED/BUSY", async () => {
    const { events } = await sendAndWatch("+8613711110001", 3);
    expect(events.at(-1)).toMatchObject({
      state: "CALL_STATE_FAILED",
      failureReason: "FAILURE_REASON_BUSY",
      terminal: true,
    });
    // A coarse report the precise one refined (Tencent) is shown, never as terminal.
    expect(events.filter((e) => e.terminal === true)).toHaveLength(1);
  });

  it("a refusal by the provider API ends the call FAILED with the normalized reason", async () => {
    const before = fake.calls.length;
    tc.refuseNext(fake);
    const sent = await cli(["send", ...addr, "--provider", tc.name, "--to", "+8613711112222", "--code", "4821", "--json"]);
    const call = (await server.store.getCall((JSON.parse(sent.out[0] ?? "{}") as { callId: string }).callId))!;
    expect(call).toMatchObject({ state: CallState.FAILED, failureReason: tc.refusalReason });
    expect(fake.calls.length).toBe(before);
  });

  it("callbacks retried or replayed out of order are acknowledged and change nothing", async () => {
    const { callId } = await sendAndWatch("+8613711112222", 0);
    await fake.settled();
    const before = await server.store.listEvents({ callId }, 0, 100);
    const bodies = fake.deliveries.map((d) => d.body);
    for (const body of [...bodies].reverse()) {
      expect((await fake.pushRaw(body)).status).toBe(200);
    }
    expect(await server.store.listEvents({ callId }, 0, 100)).toEqual(before);
  });

  it("a malformed callback is answered 400 and stores nothing", async () => {
    const reply = await fake.pushRaw('{"not": "what this provider sends"');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toHaveProperty("error");
  });
});
