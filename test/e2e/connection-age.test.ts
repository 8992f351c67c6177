import { describe, expect, it } from "vitest";
import type { WatchInit } from "../support/clients.js";
import { connectGrpcClient, grpcJsClient, rpcFailure } from "../support/clients.js";
import { createCarrier, startTestServer } from "../support/test-server.js";

// A mesh balances connections, not calls: a WatchStatus stream pins its client to one
// replica for as long as it lasts. VOICECODE_GRPC_MAX_CONNECTION_AGE_MS makes the server
// retire a connection (GOAWAY, then closed after the grace), so a watcher reconnects,
// possibly elsewhere. What matters is that resuming with after_sequence loses nothing.
// The code of the break is the client library's: grpc-js reports a connection closed
// under a stream as UNAVAILABLE, connect-es as CANCELED (docs/deployment.md says to
// resume on both).
const CLIENT_KINDS = [
  { name: "grpc-js", make: grpcJsClient, broken: "unavailable" },
  { name: "connect-grpc", make: connectGrpcClient, broken: "canceled" },
];

describe.each(CLIENT_KINDS)("$name: a watch on a connection retired by max connection age", ({ make, broken }) => {
  it("breaks, resumes with after_sequence and sees every event once", async () => {
    const carrier = createCarrier();
    // Tiny ages: every connection of this test is retired a few hundred ms after it opens.
    const server = await startTestServer(carrier, {
      VOICECODE_GRPC_MAX_CONNECTION_AGE_MS: "300",
      VOICECODE_GRPC_MAX_CONNECTION_AGE_GRACE_MS: "100",
    });
    const client = make(server.grpcUrl);
    try {
      const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
      const target = { case: "callId" as const, value: sent.callId };
      const seen: bigint[] = [];
      const breaks: string[] = [];
      let last = 0n;
      // Reconnect like a real client: after a break, resume after the last sequence seen.
      // While it is disconnected the carrier moves the call one step, so every event
      // after the first is one the watcher was not connected for.
      for (let done = false; !done; ) {
        const request: WatchInit = { target, afterSequence: last };
        try {
          for await (const { event } of client.watch(request)) {
            if (event === undefined) continue;
            seen.push(event.sequence);
            last = event.sequence;
            if (event.terminal) done = true;
          }
          done = true;
        } catch (err) {
          breaks.push(rpcFailure(err).code);
          await carrier.scheduler.runNext();
        }
      }
      const stored = (await client.getCall(sent.callId)).events.map((e) => e.sequence);
      expect(seen).toEqual(stored);
      expect(stored).toHaveLength(5); // ACCEPTED, DIALING, RINGING, ANSWERED, COMPLETED
      // One break per step the carrier took while the watcher was away.
      expect(breaks).toEqual([broken, broken, broken, broken]);
    } finally {
      client.close();
      await server.stop();
      carrier.network.close();
    }
  });
});
