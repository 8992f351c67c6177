/**
 * A generated code over routing: the code is drawn once per Send, so an outcome fallback
 * (busy on Kingsoft, answered on Tencent) speaks the same code again, sealed in between,
 * and the call's one verification still approves it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { CheckResult, OutcomeFallback } from "../../gen/voicecode/v1/voicecode_pb.js";
import { CallState } from "../../src/core/model.js";
import { defaultCodeGenerator } from "../../src/verify/code.js";
import { type KingsoftFake, startKingsoftFake } from "../fakes/kingsoft.js";
import { type TencentFake, startTencentFake } from "../fakes/tencent.js";
import { type TestClient, grpcJsClient } from "../support/clients.js";
import { type TestServer, createCarrier, startTestServer } from "../support/test-server.js";

const TOKEN = "e2e-verify-routing-token-0123456789";
let kingsoft: KingsoftFake;
let tencent: TencentFake;
let server: TestServer;
let client: TestClient;
const carrier = createCarrier();
const spoken: string[] = [];

beforeAll(async () => {
  kingsoft = await startKingsoftFake({ stepMs: 5 });
  tencent = await startTencentFake({ stepMs: 5 });
  server = await startTestServer(
    carrier,
    {
      ...kingsoft.env,
      ...tencent.env,
      VOICECODE_KINGSOFT_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_TENCENT_WEBHOOK_TOKEN: TOKEN,
      VOICECODE_ROUTES: "+86=kingsoft,tencent",
      VOICECODE_BREAKER_FAILURES: "1000",
      VOICECODE_PROVIDER_TIMEOUT_MS: "400",
      VOICECODE_REFINE_GRACE_MS: "0",
    },
    {
      generateCode: (length) => {
        const code = defaultCodeGenerator(length);
        spoken.push(code);
        return code;
      },
    },
  );
  kingsoft.setCallbackUrl(`${server.webhookUrl}/webhooks/kingsoft/${TOKEN}`);
  tencent.setCallbackUrl(`${server.webhookUrl}/webhooks/tencent/${TOKEN}`);
  client = grpcJsClient(server.grpcUrl);
});
afterAll(async () => {
  client.close();
  await server.stop();
  await kingsoft.close();
  await tencent.close();
  carrier.network.close();
});

it("an outcome fallback re-speaks the one generated code, and Check approves it", async () => {
  tencent.answerNextCall();
  const sent = await client.send({
    phoneNumber: "+8613900420001", // busy on every provider but for answerNextCall
    generateCode: true,
    clientReference: "routed-signup",
    outcomeFallback: OutcomeFallback.ENABLED,
  });
  expect(spoken).toHaveLength(1);
  const code = spoken[0] ?? "";
  for await (const _ of client.watch({ target: { case: "callId", value: sent.callId } })) {
    // until the call's terminal event (the second attempt's COMPLETED)
  }
  const got = await client.getCall(sent.callId);
  expect(got.call).toMatchObject({ provider: "tencent", state: CallState.COMPLETED });
  expect(got.call?.attempts).toHaveLength(2);
  // No second code was drawn for the second attempt.
  expect(spoken).toHaveLength(1);
  expect(await client.check({ target: { case: "clientReference", value: "routed-signup" }, code })).toMatchObject({
    result: CheckResult.APPROVED,
    callId: sent.callId,
  });
});
