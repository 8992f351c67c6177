/**
 * A minimal TypeScript caller with @grpc/grpc-js: Send with an API key, watch the call
 * to its end (resuming after a broken stream), then GetCall.
 *
 *   VOICECODE_ADDR=voicecode.voicecode.svc:50051 VOICECODE_API_KEY=vck_... \
 *     npx tsx examples/typescript/grpc-js-caller.ts +8613711112222
 *
 * grpc-js moves bytes; the messages are the protobuf-es types generated into gen/ (your
 * project generates them from proto/ with buf and protoc-gen-es). Prints one JSON line.
 */
import { type DescMessage, type MessageShape, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  CallState,
  type GetCallResponse,
  GetCallRequestSchema,
  type SendResponse,
  SendRequestSchema,
  VoiceCode,
  type WatchStatusResponse,
  WatchStatusRequestSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";

const addr = (process.env.VOICECODE_ADDR ?? "127.0.0.1:50051").replace(/^https?:\/\//, "");
const apiKey = process.env.VOICECODE_API_KEY;
const phoneNumber = process.argv[2] ?? "+8613711112222";

/** grpc-js (de)serializers for one protobuf-es message type. */
function codec<D extends DescMessage>(schema: D) {
  return {
    serialize: (message: MessageShape<D>) => Buffer.from(toBinary(schema, message)),
    deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
  };
}
function path(method: string): string {
  return `/${VoiceCode.typeName}/${method}`;
}

const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
  // Ping an idle connection so a peer that vanished is noticed (docs/deployment.md).
  "grpc.keepalive_time_ms": 60_000,
});
// Every call carries the key; the service answers UNAUTHENTICATED without a valid one.
function metadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  if (apiKey !== undefined) md.set("authorization", `Bearer ${apiKey}`);
  return md;
}
const deadline = () => ({ deadline: Date.now() + 10_000 });

function unary<I extends DescMessage, O extends DescMessage>(
  method: string,
  input: I,
  output: O,
  request: MessageShape<I>,
): Promise<MessageShape<O>> {
  const req = codec(input);
  const res = codec(output);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path(method), req.serialize, res.deserialize, request, metadata(), deadline(), (err, value) =>
      err || value === undefined ? reject(err ?? new Error("no response")) : resolve(value),
    );
  });
}

const sent: SendResponse = await unary(
  "Send",
  SendRequestSchema,
  VoiceCode.method.send.output,
  create(SendRequestSchema, { phoneNumber, code: "1234", clientReference: "example-grpc-js" }),
);

// A watch can break (a replica drains, a connection reaches its maximum age: grpc-js
// reports both as UNAVAILABLE): resume after the last sequence seen, nothing is missed.
const states: string[] = [];
let after = 0n;
for (let attempt = 0; ; attempt++) {
  const request = create(WatchStatusRequestSchema, { target: { case: "callId", value: sent.callId }, afterSequence: after });
  const { serialize } = codec(WatchStatusRequestSchema);
  const { deserialize } = codec(VoiceCode.method.watchStatus.output);
  const stream = client.makeServerStreamRequest(path("WatchStatus"), serialize, deserialize, request, metadata());
  try {
    for await (const response of stream) {
      const { event } = response as WatchStatusResponse;
      if (event === undefined) continue;
      after = event.sequence;
      states.push(CallState[event.state]);
    }
    break; // the server ends a single-call watch with OK after the terminal event
  } catch (err) {
    if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || attempt >= 5) throw err;
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
  }
}

const call: GetCallResponse = await unary(
  "GetCall",
  GetCallRequestSchema,
  VoiceCode.method.getCall.output,
  create(GetCallRequestSchema, { callId: sent.callId }),
);
client.close();
console.log(
  JSON.stringify({
    example: "typescript-grpc-js",
    callId: sent.callId,
    sendState: CallState[sent.state],
    states,
    finalState: CallState[call.call?.state ?? CallState.UNSPECIFIED],
    events: call.events.length,
  }),
);
