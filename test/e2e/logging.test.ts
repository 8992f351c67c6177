import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { hashApiKey, newApiKey } from "../../src/auth/keys.js";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";
import { failureOf, grpcJsClient } from "../support/clients.js";
import { collect } from "../support/collect.js";
import { createCarrier, SANDBOX_TOKEN, testConfig } from "../support/test-server.js";

describe("logs", () => {
  it("never carry the code or a full phone number, only the masked one", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const key = newApiKey();
    // Keys and the default per-number limits on, so refusals and auth failures are logged too.
    const config = testConfig({ VOICECODE_API_KEYS: `logs=${hashApiKey(key)}`, VOICECODE_NUMBER_LIMITS: "1/1m" });
    const carrier = createCarrier();
    const server = await startServer({
      config,
      logger: createLogger("trace", sink),
      sandboxNetwork: carrier.network,
    });
    carrier.target = server.sandboxCallbackUrl;
    const client = grpcJsClient(`http://127.0.0.1:${server.grpcPort}`, key);
    const intruder = grpcJsClient(`http://127.0.0.1:${server.grpcPort}`, `${key}x`);
    await failureOf(intruder.send({ phoneNumber: "+8613755558888", code: "97531" }));
    intruder.close();

    const sent = await client.send({ phoneNumber: "+8613755558888", code: "97531", idempotencyKey: "log-1" });
    await client.send({ phoneNumber: "+8613755558888", code: "97531", idempotencyKey: "log-1" });
    await failureOf(client.send({ phoneNumber: "+8613755558888", code: "97531x" }));
    await client.send({ phoneNumber: "+8613755550007", code: "97531" });
    // Over the per-number limit: refused, and logged without the number.
    await failureOf(client.send({ phoneNumber: "+8613755550007", code: "97531" }));
    const watched = collect(client.watch({ target: { case: "callId", value: sent.callId } }));
    await carrier.scheduler.runAll();
    await watched;
    client.close();
    await server.stop();
    carrier.network.close();

    const text = lines.join("");
    expect(lines.length).toBeGreaterThan(5);
    expect(text).toContain("+86*******8888");
    expect(text).toContain('"tenant":"logs"');
    expect(text).toContain("NUMBER_MINUTE_LIMIT");
    for (const secret of ["13755558888", "13755550007", "97531", key, key.slice(4), hashApiKey(key)]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain(SANDBOX_TOKEN);
  });
});
