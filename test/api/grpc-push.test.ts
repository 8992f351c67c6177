/**
 * The grpc-js push path (implement.ts PushCall) under backpressure: a handler that pushes
 * is told to stop when grpc-js's buffer is full and to go on at 'drain', so a client
 * that does not read holds the producer instead of growing the server's memory.
 */
import { describe, expect, it, vi } from "vitest";
import { status } from "@grpc/grpc-js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { WATCH } from "./fakes.js";
import { startGrpc, track } from "./harness.js";

describe("WatchStatus pushed on grpc-js", () => {
  it("holds the producer while the client does not read, and resumes it when it reads", async () => {
    const { address, fakes } = await startGrpc({ push: true });
    const client = createGrpcJsClient(address);
    track(() => client.close());
    // No 'data' listener: the stream stays paused and the HTTP/2 window fills.
    const call = client.watchStatus({ target: { case: "callId", value: WATCH.flood } });
    call.on("error", () => undefined);
    // grpc-js drains into the HTTP/2 stream until that fills too; then the producer stays
    // held: no progress between two looks, and waiting for a resume() that does not come.
    let last = -1;
    await vi.waitFor(
      () => {
        const { yielded, held, resumed } = fakes.counters;
        const still = yielded === last && held === resumed + 1;
        last = yielded;
        expect(still).toBe(true);
      },
      { timeout: 10_000, interval: 100 },
    );
    const produced = fakes.counters.yielded;
    const resumedBefore = fakes.counters.resumed;

    let received = 0;
    call.on("data", () => received++);
    await vi.waitFor(() => expect(fakes.counters.resumed).toBeGreaterThan(resumedBefore));
    await vi.waitFor(() => expect(received).toBeGreaterThan(produced));

    const ended = new Promise<status>((resolve) => call.on("status", (s: { code: status }) => resolve(s.code)));
    call.cancel();
    expect(await ended).toBe(status.CANCELLED);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });
});
