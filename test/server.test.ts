import net from "node:net";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startServer } from "../src/server.js";
import { testConfig } from "./support/test-server.js";

async function listenOn(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return server;
}

const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("startServer", () => {
  it("releases the listeners it had started when a later port is taken", async () => {
    const taken = await listenOn(0);
    const free = await listenOn(0);
    const webhookPort = (free.address() as net.AddressInfo).port;
    await close(free);

    const starting = startServer({
      config: testConfig({
        VOICECODE_WEBHOOK_PORT: String(webhookPort),
        VOICECODE_GRPC_PORT: String((taken.address() as net.AddressInfo).port),
      }),
      logger: pino({ level: "silent" }),
    });
    await expect(starting).rejects.toThrow(/No address added/);
    // The webhook port had been bound before the gRPC port failed; it is free again.
    await close(await listenOn(webhookPort));
    await close(taken);
  });
});
