/** One request over node:http2, to check a target answers correctly before and after its load. */
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, connect } from "node:http2";

export interface ProbeResponse {
  /** The HTTP status (0 if no headers arrived). */
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Trailers, or {} when there were none. */
  readonly trailers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export function probe(origin: string, path: string, headers: OutgoingHttpHeaders, body: Uint8Array): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const session = connect(origin);
    session.once("error", reject);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`${origin}${path}: no response in 5 s`));
    }, 5000);
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.once("response", (h) => {
      status = h[":status"] ?? 0;
      responseHeaders = h;
    });
    stream.once("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("error", reject);
    stream.once("end", () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks) });
    });
    stream.end(body);
  });
}

/** The 5-byte gRPC message prefix (uncompressed) and the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * The single message of a gRPC unary response that ended with grpc-status 0; throws
 * with what was wrong otherwise.
 */
export function grpcUnaryMessage(response: ProbeResponse): Uint8Array {
  const status = response.trailers["grpc-status"] ?? response.headers["grpc-status"];
  const message = response.trailers["grpc-message"] ?? response.headers["grpc-message"];
  if (response.status !== 200) throw new Error(`HTTP status ${response.status}`);
  if (status !== "0") throw new Error(`grpc-status ${status ?? "missing"} ${message ?? ""}`);
  const body = response.body;
  if (body.length < 5 || body[0] !== 0) throw new Error(`not one uncompressed gRPC message (${body.length} bytes)`);
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) throw new Error(`frame says ${length} bytes, body has ${body.length - 5}`);
  return body.subarray(5);
}
