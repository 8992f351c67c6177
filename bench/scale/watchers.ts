/**
 * The watching client of the scale bench, in a process of its own: opens one
 * WatchStatus stream per call over a few HTTP/2 connections and notes when each
 * call's first event arrives (wall clock, comparable with the load generator's).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Client, type ClientReadableStream, credentials } from "@grpc/grpc-js";
import { WatchStatusRequestSchema, WatchStatusResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { serve, wallMs } from "./ipc.js";

const WATCH_PATH = "/voicecode.v1.VoiceCode/WatchStatus";

export interface OpenArgs {
  readonly port: number;
  readonly connections: number;
  readonly calls: readonly { readonly callId: string; readonly afterSequence: number }[];
}

export interface Arrivals {
  /** callId → wall-clock ms of its first event. */
  readonly first: Record<string, number>;
  readonly events: number;
  /** Streams that ended or failed while they should have stayed open. */
  readonly ended: number;
  readonly errors: readonly string[];
}

let clients: Client[] = [];
let streams: ClientReadableStream<Buffer>[] = [];
let first: Record<string, number> = {};
let events = 0;
let ended = 0;
let closing = false;
const errors: string[] = [];

function open(args: OpenArgs): { startedAtMs: number } {
  clients = Array.from(
    { length: args.connections },
    // A local subchannel pool per client: one HTTP/2 connection each, not one shared.
    () => new Client(`127.0.0.1:${args.port}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
  );
  const startedAtMs = wallMs();
  args.calls.forEach((call, i) => {
    const client = clients[i % clients.length] as Client;
    const request = Buffer.from(
      toBinary(WatchStatusRequestSchema, create(WatchStatusRequestSchema, { target: { case: "callId", value: call.callId }, afterSequence: BigInt(call.afterSequence) })),
    );
    const stream = client.makeServerStreamRequest<Buffer, Buffer>(
      WATCH_PATH,
      (b) => b,
      (b) => b,
      request,
    );
    stream.on("data", (data: Buffer) => {
      const at = wallMs();
      events++;
      const event = fromBinary(WatchStatusResponseSchema, data).event;
      if (event !== undefined && first[event.callId] === undefined) first[event.callId] = at;
    });
    stream.on("error", (err: Error) => {
      if (closing) return;
      ended++;
      if (errors.length < 5) errors.push(err.message);
    });
    stream.on("end", () => {
      if (!closing) ended++;
    });
    streams.push(stream);
  });
  return { startedAtMs };
}

serve({
  open,
  arrivals: (): Arrivals => ({ first, events, ended, errors }),
  resetArrivals: () => {
    first = {};
    events = 0;
  },
  close: () => {
    closing = true;
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
    streams = [];
    clients = [];
  },
});
