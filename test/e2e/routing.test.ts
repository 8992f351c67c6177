/**
 * Routing through the real server and two contract fakes (Kingsoft first, Tencent
 * second on the route): what fails over and what never does, the attempts a caller
 * sees, and outcome fallback watched end to end.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttemptOutcome, OutcomeFallback } from "../../gen/voicecode/v1/voicecode_pb.js";
import { runCli } from "../../src/cli/main.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import { capture } from "../cli/capture.js";
import { type KingsoftFake, startKingsoftFake } from "../fakes/kingsoft.js";
import { type TencentFake, startTencentFake } from "../fakes/tencent.js";
import { type TestClient, connectProtocolClient, grpcJsClient } from "../support/clients.js";
import { type TestServer, createCarrier, startTestServer } from "../support/test-server.js";

const TOKEN = "e2e-routing-token-0123456789";
let sequenceOfNumbers = 0;
/** A fresh mainland mobile; its last four digits pick the fakes' outcome (7777: completes). */
const freshNumber = (ending = "7777"): string => {
  sequenceOfNumbers += 1;
  return `+86139${String(sequenceOfNumbers).padStart(4, "0")}${ending}`;
};

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const attemptsOf = (attempts: readonly { provider: string; outcome: AttemptOutcome; failureReason: FailureReason }[]) =>
  attempts.map((a) => [a.provider, AttemptOutcome[a.outcome], FailureReason[a.failureReason]]);

interface Routed {
  kingsoft: KingsoftFake;
  tencent: TencentFake;
  server: TestServer;
  client: TestClient;
}

/**
 * A server routing "+86" to the Kingsoft then the Tencent contract fake, started before
 * the describe's tests and stopped after; `env` adds to (or overrides) the route.
 */
function useKingsoftThenTencent(env: Record<string, string>, edges: Parameters<typeof startTestServer>[2] = {}): Routed {
  const routed = {} as Routed;
  const carrier = createCarrier();
  beforeAll(async () => {
    routed.kingsoft = await startKingsoftFake({ stepMs: 5 });
    routed.tencent = await startTencentFake({ stepMs: 5 });
    routed.server = await startTestServer(
      carrier,
      {
        ...routed.kingsoft.env,
        ...routed.tencent.env,
        VOICECODE_KINGSOFT_WEBHOOK_TOKEN: TOKEN,
        VOICECODE_TENCENT_WEBHOOK_TOKEN: TOKEN,
        VOICECODE_ROUTES: "+86=kingsoft,tencent",
        VOICECODE_REFINE_GRACE_MS: "0",
        ...env,
      },
      edges,
    );
    routed.kingsoft.setCallbackUrl(`${routed.server.webhookUrl}/webhooks/kingsoft/${TOKEN}`);
    routed.tencent.setCallbackUrl(`${routed.server.webhookUrl}/webhooks/tencent/${TOKEN}`);
    routed.client = grpcJsClient(routed.server.grpcUrl);
  });
  afterAll(async () => {
    routed.client.close();
    await routed.server.stop();
    await routed.kingsoft.close();
    await routed.tencent.close();
    carrier.network.close();
  });
  return routed;
}

describe("routing: kingsoft, then tencent", () => {
  const r = useKingsoftThenTencent({
    // Breakers stay out of these tests' way (they have their own below).
    VOICECODE_BREAKER_FAILURES: "1000",
    VOICECODE_PROVIDER_TIMEOUT_MS: "400",
  });

  it.each([
    ["auth", "credentials", FailureReason.AUTH_ERROR],
    ["balance", "balance", FailureReason.INSUFFICIENT_BALANCE],
    ["flow-limit", "the provider's own rate limit", FailureReason.RATE_LIMITED],
    ["account", "a 5xx documented as not placed", FailureReason.PROVIDER_ERROR],
  ] as const)("fails over when kingsoft refuses for %s (%s), and GetCall shows both attempts", async (failure, _why, reason) => {
    r.kingsoft.failNext(failure);
    const before = r.tencent.requests.length;
    const sent = await r.client.send({ phoneNumber: freshNumber(), code: "4321", clientReference: `fo-${failure}` });
    expect(sent).toMatchObject({ provider: "tencent", state: CallState.ACCEPTED });
    expect(attemptsOf(sent.attempts)).toEqual([
      ["kingsoft", "REJECTED", FailureReason[reason]],
      ["tencent", "ACCEPTED", "UNSPECIFIED"],
    ]);
    expect(r.tencent.requests.length).toBe(before + 1);
    const got = await r.client.getCall(sent.callId);
    expect(attemptsOf(got.call?.attempts ?? [])).toEqual(attemptsOf(sent.attempts));
    // The refusal is on the stream too, tied to attempt 1 and not terminal.
    expect(got.events.slice(0, 2).map((e) => [e.attempt, CallState[e.state], e.terminal])).toEqual([
      [1, "FAILED", false],
      [2, "ACCEPTED", false],
    ]);
  });

  it("the CLI shows the route taken", async () => {
    r.kingsoft.failNext("balance");
    const stdout = capture();
    const code = await runCli(["send", "--addr", r.server.grpcUrl, "--to", freshNumber(), "--code", "4321"], {
      stdout,
      stderr: capture(),
      env: {},
      signal: AbortSignal.timeout(10_000),
    });
    expect(code).toBe(0);
    const callId = /call (\S+) via tencent/.exec(stdout.text())?.[1] ?? "";
    expect(stdout.lines()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ {2}attempt 1 {2}kingsoft {2}refused, no call placed {2}FAILED \(INSUFFICIENT_BALANCE\) code TrialTimesLimit$/),
        expect.stringMatching(/^ {2}attempt 2 {2}tencent {2}accepted/),
      ]),
    );
    const got = capture();
    await runCli(["get", "--addr", r.server.grpcUrl, callId], { stdout: got, stderr: capture(), env: {}, signal: AbortSignal.timeout(10_000) });
    expect(got.text()).toMatch(/attempts\n {4}attempt 1 {2}kingsoft[^\n]*\n {4}attempt 2 {2}tencent/);
    expect(got.text()).toMatch(/ACCEPTED \(attempt 2\)/);
  });

  it("never fails over a per-number refusal: the call ends with it", async () => {
    r.kingsoft.failNext("rate-limit"); // MobileFrequencyLimit
    const before = r.tencent.requests.length;
    const sent = await r.client.send({ phoneNumber: freshNumber(), code: "4321" });
    expect(sent).toMatchObject({ provider: "kingsoft", state: CallState.FAILED, failureReason: FailureReason.RATE_LIMITED });
    expect(attemptsOf(sent.attempts)).toEqual([["kingsoft", "REJECTED", "RATE_LIMITED"]]);
    expect(r.tencent.requests.length).toBe(before);
  });

  it("refuses an unknown outcome_fallback value naming the field, places and stores nothing, and keeps serving", async () => {
    const before = [r.kingsoft.requests.length, r.tencent.requests.length];
    const reference = `bad-fallback-${freshNumber()}`;
    await expect(
      r.client.send({ phoneNumber: freshNumber(), code: "4321", clientReference: reference, outcomeFallback: 7 as OutcomeFallback }),
    ).rejects.toMatchObject({ details: expect.stringMatching(/^outcome_fallback: /) });
    expect([r.kingsoft.requests.length, r.tencent.requests.length]).toEqual(before);
    expect(await r.server.store.listEvents({ clientReference: reference, tenant: "default" }, 0, 10)).toEqual([]);
    expect((await r.client.send({ phoneNumber: freshNumber(), code: "4321" })).state).toBe(CallState.ACCEPTED);
  });

  it("never fails over a refusal about the number", async () => {
    r.kingsoft.failNext("invalid-number");
    const before = r.tencent.requests.length;
    const sent = await r.client.send({ phoneNumber: freshNumber(), code: "4321" });
    expect(sent).toMatchObject({ provider: "kingsoft", state: CallState.FAILED, failureReason: FailureReason.INVALID_NUMBER });
    expect(r.tencent.requests.length).toBe(before);
  });

  it.each(["hang", "reset"] as const)("a provider that may have placed the call (%s) is never failed over: PENDING, with the reason", async (failure) => {
    r.kingsoft.failNext(failure);
    const beforeKingsoft = r.kingsoft.requests.length;
    const beforeTencent = r.tencent.requests.length;
    const sent = await r.client.send({ phoneNumber: freshNumber(), code: "4321" });
    expect(sent).toMatchObject({ provider: "kingsoft", state: CallState.PENDING });
    expect(r.kingsoft.requests.length).toBe(beforeKingsoft + 1);
    expect(r.tencent.requests.length).toBe(beforeTencent);
    expect(attemptsOf(sent.attempts)).toEqual([["kingsoft", "AMBIGUOUS", "UNSPECIFIED"]]);
    expect(sent.attempts[0]?.providerText).not.toBe("");
  });

  it("a pinned provider is not failed over", async () => {
    r.kingsoft.failNext("balance");
    const before = r.tencent.requests.length;
    const sent = await r.client.send({ phoneNumber: freshNumber(), code: "4321", provider: "kingsoft" });
    expect(sent).toMatchObject({ provider: "kingsoft", state: CallState.FAILED, failureReason: FailureReason.INSUFFICIENT_BALANCE });
    expect(r.tencent.requests.length).toBe(before);
  });

  it("skips a provider that cannot take the request before any network call (kingsoft: mobiles only)", async () => {
    const before = r.kingsoft.requests.length;
    const sent = await r.client.send({ phoneNumber: "+861062345678", code: "4321" });
    expect(sent.provider).toBe("tencent");
    expect(attemptsOf(sent.attempts)).toEqual([["tencent", "ACCEPTED", "UNSPECIFIED"]]);
    expect(r.kingsoft.requests.length).toBe(before);
  });

  it("refuses a number no route covers, naming its country code only", async () => {
    await expect(r.client.send({ phoneNumber: "+14155550123", code: "4321" })).rejects.toMatchObject({
      details: expect.stringMatching(/^phone_number: no route for \+1 numbers/),
    });
  });

  it("outcome fallback: busy on kingsoft, completed on tencent; one watch sees both attempts and ends once", async () => {
    r.tencent.answerNextCall();
    const watcher = connectProtocolClient(r.server.apiUrl);
    const sent = await r.client.send({
      phoneNumber: freshNumber("0001"), // busy on every provider but for answerNextCall
      code: "4321",
      outcomeFallback: OutcomeFallback.ENABLED,
    });
    expect(sent).toMatchObject({ provider: "kingsoft", state: CallState.ACCEPTED });
    const events: Array<[number, string, string, boolean]> = [];
    for await (const { event } of watcher.watch({ target: { case: "callId", value: sent.callId } })) {
      if (event !== undefined) events.push([event.attempt, CallState[event.state] ?? "", FailureReason[event.failureReason] ?? "", event.terminal]);
    }
    const terminals = events.filter(([, , , terminal]) => terminal);
    expect(terminals).toEqual([[2, "COMPLETED", "UNSPECIFIED", true]]);
    expect(events.find(([attempt, state]) => attempt === 1 && state === "FAILED")).toEqual([1, "FAILED", "BUSY", false]);
    expect(events.map(([attempt]) => attempt)).toEqual([...events.map(([attempt]) => attempt)].sort());
    const got = await r.client.getCall(sent.callId);
    expect(got.call).toMatchObject({ provider: "tencent", state: CallState.COMPLETED });
    expect(attemptsOf(got.call?.attempts ?? [])).toEqual([
      ["kingsoft", "ACCEPTED", "BUSY"],
      ["tencent", "ACCEPTED", "UNSPECIFIED"],
    ]);
    expect(got.call?.attempts.map((a) => CallState[a.state])).toEqual(["FAILED", "COMPLETED"]);
  });

  it("without the opt-in, a busy call ends busy", async () => {
    const sent = await r.client.send({ phoneNumber: freshNumber("0001"), code: "4321" });
    const watcher = grpcJsClient(r.server.grpcUrl);
    const states: string[] = [];
    for await (const { event } of watcher.watch({ target: { case: "callId", value: sent.callId } })) {
      if (event !== undefined) states.push(`${CallState[event.state]}${event.terminal ? "!" : ""}`);
    }
    watcher.close();
    expect(states.at(-1)).toBe("FAILED!");
    expect((await r.client.getCall(sent.callId)).call?.attempts).toHaveLength(1);
  });
});

describe("routing: a provider that cannot be reached, and the circuit breaker", () => {
  let tencent: TencentFake;
  let server: TestServer;
  let client: TestClient;
  const carrier = createCarrier();

  beforeAll(async () => {
    tencent = await startTencentFake({ stepMs: 5 });
    const dead = await closedPort();
    const kingsoft = await startKingsoftFake({ stepMs: 5 });
    const kingsoftEnv = { ...kingsoft.env, VOICECODE_KINGSOFT_ENDPOINT: `http://127.0.0.1:${dead}` };
    await kingsoft.close();
    server = await startTestServer(carrier, {
      ...kingsoftEnv,
      ...tencent.env,
      VOICECODE_KINGSOFT_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_TENCENT_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_ROUTES: "+86=kingsoft,tencent",
      VOICECODE_BREAKER_FAILURES: "2",
      VOICECODE_BREAKER_COOLDOWN_MS: "3600000",
    });
    tencent.setCallbackUrl(`${server.webhookUrl}/webhooks/tencent/${TOKEN}`);
    client = grpcJsClient(server.grpcUrl);
  });
  afterAll(async () => {
    client.close();
    await server.stop();
    await tencent.close();
    carrier.network.close();
  });

  it("fails over a connection that never reached the provider, then skips it once its breaker opens", async () => {
    const first = await client.send({ phoneNumber: freshNumber(), code: "4321" });
    expect(attemptsOf(first.attempts)).toEqual([
      ["kingsoft", "REJECTED", "PROVIDER_ERROR"],
      ["tencent", "ACCEPTED", "UNSPECIFIED"],
    ]);
    await client.send({ phoneNumber: freshNumber(), code: "4321" });
    // Two consecutive failures: open. The third Send goes straight to tencent.
    const third = await client.send({ phoneNumber: freshNumber(), code: "4321" });
    expect(attemptsOf(third.attempts)).toEqual([["tencent", "ACCEPTED", "UNSPECIFIED"]]);
    const metrics = await (await fetch(`${server.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/voicecode_provider_circuit_state\{provider="kingsoft"\} 2\b/);
    expect(metrics).toMatch(/voicecode_provider_circuit_state\{provider="tencent"\} 0\b/);
  });
});

describe("routing: outcome fallback under the per-number limits", () => {
  const r = useKingsoftThenTencent({
    // The fallback window (1 s) closes long before the number may ring again (1 a minute).
    VOICECODE_ROUTES: JSON.stringify({
      routes: [{ prefix: "+86", providers: ["kingsoft", "tencent"], fallback: { on: ["BUSY"], deadlineMs: 1000 } }],
    }),
    VOICECODE_NUMBER_LIMITS: "1/1m",
  });

  it("does not ring the number again beyond its limit: the call ends busy, saying why", async () => {
    const before = r.tencent.requests.length;
    const sent = await r.client.send({ phoneNumber: freshNumber("0001"), code: "4321" });
    const events: Array<[number, string, boolean, string]> = [];
    for await (const { event } of r.client.watch({ target: { case: "callId", value: sent.callId } })) {
      if (event !== undefined) events.push([event.attempt, CallState[event.state] ?? "", event.terminal, event.providerText]);
    }
    expect(events.at(-1)).toEqual([1, "FAILED", true, expect.stringContaining("per-number limit NUMBER_MINUTE_LIMIT")]);
    expect(r.tencent.requests.length).toBe(before);
    expect((await r.client.getCall(sent.callId)).call?.attempts).toHaveLength(1);
  });
});

describe("routing: an outcome fallback held by the per-number limit until the number may ring again", () => {
  let clock = Date.now();
  const r = useKingsoftThenTencent(
    {
      VOICECODE_ROUTES: JSON.stringify({
        routes: [{ prefix: "+86", providers: ["kingsoft", "tencent"], fallback: { on: ["BUSY"] } }],
      }),
      VOICECODE_NUMBER_LIMITS: "1/1m",
      VOICECODE_FALLBACK_POLL_MS: "20",
    },
    { now: () => clock },
  );

  it("places the next attempt once the minute has passed, not before", async () => {
    const before = r.tencent.requests.length;
    r.tencent.answerNextCall();
    const sent = await r.client.send({ phoneNumber: freshNumber("0001"), code: "4321" });
    // Busy on kingsoft; the decision waits for the number's minute.
    for (let i = 0; i < 200; i++) {
      const got = await r.client.getCall(sent.callId);
      if (got.events.some((e) => e.state === CallState.FAILED)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // several polls of the dispatcher
    expect(r.tencent.requests.length).toBe(before);
    clock += 61_000;
    let final = await r.client.getCall(sent.callId);
    for (let i = 0; i < 300 && final.call?.state !== CallState.COMPLETED; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      final = await r.client.getCall(sent.callId);
    }
    expect(final.call?.attempts.map((a) => [a.provider, CallState[a.state]])).toEqual([
      ["kingsoft", "FAILED"],
      ["tencent", "COMPLETED"],
    ]);
    expect(r.tencent.requests.length).toBe(before + 1);
  });
});
