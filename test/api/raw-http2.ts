/** A hand-driven HTTP/2 gRPC client, for the ways real clients vanish that grpc-js hides. */
import http2 from "node:http2";
import { type Socket, connect } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { WatchStatusRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";

export interface RawWatch {
  readonly socket: Socket;
  readonly session: http2.ClientHttp2Session;
  readonly stream: http2.ClientHttp2Stream;
  /** Resolves on the first DATA frame: the handler is running and has yielded. */
  readonly firstData: Promise<void>;
}

export async function rawWatch(port: number, callId: string): Promise<RawWatch> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => socket });
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": "/voicecode.v1.VoiceCode/WatchStatus",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  const body = toBinary(WatchStatusRequestSchema, create(WatchStatusRequestSchema, { target: { case: "callId", value: callId } }));
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  stream.end(frame);
  const firstData = new Promise<void>((resolve) => stream.once("data", () => resolve()));
  return { socket, session, stream, firstData };
}
