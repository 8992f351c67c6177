/**
 * The grpc-js push path (implement.ts PushCall) under backpressure: a handler that pushes
 * is told to stop when grpc-js's buffer is full and to go on at 'drain', so a client
 * that does not read holds the producer instead of growing the server's memory.
 *
 * The client is raw HTTP/2 with its stream paused, so HTTP/2 flow control really stops
 * the server (a grpc-js client reads everything off the wire whether or not the
 * application reads).
 */
import http2 from "node:http2";
import { describe, expect, it, vi } from "vitest";
import { WATCH } from "./fakes.js";
import { startGrpc, track } from "./harness.js";
import { rawWatch } from "./raw-http2.js";

describe("WatchStatus pushed on grpc-js", () => {
  it("holds the producer while the client does not read, and resumes it when it reads", async () => {
    const { port, fakes } = await startGrpc({ push: true });
    const watch = await rawWatch(port, WATCH.flood);
    track(() => watch.session.destroy());
    // Nothing has arrived yet (that takes I/O): from here the client reads nothing.
    watch.stream.pause();

    // The producer ends up held: no progress between two looks, waiting for a resume()
    // that does not come.
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
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(fakes.counters.yielded).toBe(produced);

    watch.stream.resume();
    await vi.waitFor(() => expect(fakes.counters.resumed).toBeGreaterThan(resumedBefore));
    await vi.waitFor(() => expect(fakes.counters.yielded).toBeGreaterThan(produced));

    watch.stream.close(http2.constants.NGHTTP2_CANCEL);
    await vi.waitFor(() => expect(fakes.counters.watchesReleased).toBe(1));
  });
});
