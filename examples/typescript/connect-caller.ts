/**
 * A minimal TypeScript caller with @connectrpc/connect over gRPC: Send with an API key,
 * watch the call to its end (resuming after a broken stream), then GetCall.
 *
 *   VOICECODE_ADDR=voicecode.voicecode.svc:50051 VOICECODE_API_KEY=vck_... \
 *     npx tsx examples/typescript/connect-caller.ts +8613711112222
 *
 * Your own project generates the same `gen/` from proto/ with buf and protoc-gen-es
 * (see buf.gen.yaml) and depends on @bufbuild/protobuf, @connectrpc/connect and
 * @connectrpc/connect-node. Prints one JSON line.
 */
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CallState, VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";

// host:port or a URL; the gRPC port speaks cleartext HTTP/2 (h2c).
const given = process.env.VOICECODE_ADDR ?? "127.0.0.1:50051";
const addr = /^https?:\/\//.test(given) ? given : `http://${given}`;
const apiKey = process.env.VOICECODE_API_KEY;
const phoneNumber = process.argv[2] ?? "+8613711112222";

// Every call carries the key; the service answers UNAUTHENTICATED without a valid one.
const bearer: Interceptor = (next) => (req) => {
  if (apiKey !== undefined) req.header.set("authorization", `Bearer ${apiKey}`);
  return next(req);
};
const client = createClient(VoiceCode, createGrpcTransport({ baseUrl: addr, interceptors: [bearer] }));

const sent = await client.send({ phoneNumber, code: "1234", clientReference: "example-connect" }, { timeoutMs: 10_000 });

// A watch can break (a replica drains, a connection reaches its maximum age): resume
// after the last sequence seen and nothing is missed or repeated. connect-es reports a
// connection closed under the stream as CANCELED, a drain as UNAVAILABLE.
const states: string[] = [];
let after = 0n;
for (let attempt = 0; ; attempt++) {
  try {
    const stream = client.watchStatus({ target: { case: "callId", value: sent.callId }, afterSequence: after });
    for await (const { event } of stream) {
      if (event === undefined) continue;
      after = event.sequence;
      states.push(CallState[event.state]);
    }
    break; // the server ends a single-call watch with OK after the terminal event
  } catch (err) {
    const code = ConnectError.from(err).code;
    if ((code !== Code.Unavailable && code !== Code.Canceled) || attempt >= 5) throw err;
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
  }
}

const call = await client.getCall({ callId: sent.callId }, { timeoutMs: 10_000 });
console.log(
  JSON.stringify({
    example: "typescript-connect",
    callId: sent.callId,
    sendState: CallState[sent.state],
    states,
    finalState: CallState[call.call?.state ?? CallState.UNSPECIFIED],
    events: call.events.length,
  }),
);
