/**
 * A watch's events as WatchStatus responses, for a transport that pushes; also closes
 * the tenant's open-watch gauge however the watch stops. A class, not closures: one
 * small object per open stream.
 */
import { create } from "@bufbuild/protobuf";
import { type WatchStatusResponse, WatchStatusResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import type { WatchSink } from "../streams/watch.js";
import type { ResponseSink } from "./handlers.js";
import type { CoreMetrics } from "./metrics.js";
import type { EventRecord } from "./model.js";
import { eventToProto } from "./to-proto.js";

export function toWatchResponse(event: EventRecord): WatchStatusResponse {
  return create(WatchStatusResponseSchema, { event: eventToProto(event) });
}

export class StatusSink implements WatchSink {
  constructor(
    private readonly sink: ResponseSink<WatchStatusResponse>,
    private readonly metrics: CoreMetrics,
    private readonly tenant: string,
  ) {}

  event(event: EventRecord): boolean {
    return this.sink.send(toWatchResponse(event));
  }

  end(): void {
    this.sink.end();
  }

  fail(err: unknown): void {
    this.sink.fail(err);
  }

  released(): void {
    this.metrics.watchClosed(this.tenant);
  }

  within<T>(fn: () => T): T {
    return this.sink.within === undefined ? fn() : this.sink.within(fn);
  }
}
