/**
 * The outcome-fallback decision is durable: a server killed (SIGKILL) right after it
 * acknowledged the busy callback still places the next attempt, once, when it starts
 * again on the same database. A pause before the fallback attempt
 * (VOICECODE_FALLBACK_DELAY_MS) holds the first process between the two moments.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import { type KingsoftFake, startKingsoftFake } from "../fakes/kingsoft.js";
import { type TencentFake, startTencentFake } from "../fakes/tencent.js";
import { grpcJsClient } from "../support/clients.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const TOKEN = "e2e-routing-restart-token-0123";
let dir: string;
let kingsoft: KingsoftFake;
let tencent: TencentFake;
const started: ServerProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "voicecode-fallback-restart-"));
  kingsoft = await startKingsoftFake({ stepMs: 5 });
  tencent = await startTencentFake({ stepMs: 5 });
});
afterAll(async () => {
  for (const s of started) await s.stop();
  await kingsoft.close();
  await tencent.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (delayMs: number) => ({
  ...kingsoft.env,
  ...tencent.env,
  VOICECODE_KINGSOFT_WEBHOOK_TOKEN: TOKEN,
  VOICECODE_TENCENT_WEBHOOK_TOKEN: TOKEN,
  VOICECODE_DB_PATH: join(dir, "voicecode.db"),
  VOICECODE_LOG_LEVEL: "info",
  VOICECODE_ROUTES: JSON.stringify({ routes: [{ prefix: "+86", providers: ["kingsoft", "tencent"], fallback: { on: ["BUSY"] } }] }),
  VOICECODE_FALLBACK_DELAY_MS: String(delayMs),
  VOICECODE_FALLBACK_POLL_MS: "50",
  VOICECODE_SANDBOX_ENABLED: "false",
  VOICECODE_DEFAULT_PROVIDER: "kingsoft",
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it("places the next attempt exactly once after a SIGKILL between the busy callback and the placement", async () => {
  const first = await startServerProcess(env(3_600_000), dir);
  started.push(first);
  kingsoft.setCallbackUrl(`${first.webhookUrl}/webhooks/kingsoft/${TOKEN}`);
  const client = grpcJsClient(first.grpcUrl);
  const sent = await client.send({ phoneNumber: "+8613900010001", code: "4321" });
  expect(sent.provider).toBe("kingsoft");
  // The busy report is stored and acknowledged: the decision to fall back is on disk.
  await until(
    () => client.getCall(sent.callId),
    (got) => got.events.some((e) => e.state === CallState.FAILED && !e.terminal),
    "the busy callback",
  );
  client.close();
  expect(kingsoft.deliveries.at(-1)).toMatchObject({ acked: true });
  const tencentBefore = tencent.requests.length;
  first.child.kill("SIGKILL");
  await first.stop();

  tencent.answerNextCall();
  const second = await startServerProcess(env(0), dir);
  started.push(second);
  tencent.setCallbackUrl(`${second.webhookUrl}/webhooks/tencent/${TOKEN}`);
  const again = grpcJsClient(second.grpcUrl);
  const done = await until(
    () => again.getCall(sent.callId),
    (got) => got.call?.state === CallState.COMPLETED,
    "the fallback attempt to complete",
  );
  expect(done.call?.attempts.map((a) => [a.number, a.provider, CallState[a.state], FailureReason[a.failureReason]])).toEqual([
    [1, "kingsoft", "FAILED", "BUSY"],
    [2, "tencent", "COMPLETED", "UNSPECIFIED"],
  ]);
  // A few more polls of the dispatcher place nothing more.
  await new Promise((r) => setTimeout(r, 300));
  expect(tencent.requests.length).toBe(tencentBefore + 1);
  again.close();
});
