/**
 * With tracing off, a request's log lines still carry its request id: the ids travel
 * with the caller (src/telemetry/request-scope.ts), not in async context. A stream's
 * x-request-id goes out with its first message, or with its status.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { SendRequestSchema, VoiceCode, WatchStatusRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { grpcServiceDefinition } from "../../src/api/grpc/service-definition.js";
import { createLogger } from "../../src/logger.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { type GrpcJsClient, createGrpcJsClient } from "../support/grpc-js-client.js";
import { jsonLogLines } from "../support/log-lines.js";
import { type Carrier, createCarrier, testConfig } from "../support/test-server.js";

const { sink, lines } = jsonLogLines();
let carrier: Carrier;
let server: RunningServer;

beforeAll(async () => {
  carrier = createCarrier();
  server = await startServer({ config: testConfig(), logger: createLogger("info", sink), sandboxNetwork: carrier.network });
  carrier.target = server.sandboxCallbackUrl;
});
afterAll(async () => {
  await server.stop();
  carrier.network.close();
});

function watch(client: GrpcJsClient, callId: string, metadata: grpc.Metadata): grpc.ClientReadableStream<unknown> {
  const method = grpcServiceDefinition(VoiceCode).watchStatus;
  return client.raw.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    create(WatchStatusRequestSchema, { target: { case: "callId", value: callId } }),
    metadata,
  );
}

describe("request ids on log lines, tracing off", () => {
  it("puts a grpc-js Send's x-request-id on the core's lines, and no trace id", async () => {
    const client = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`);
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "grpc-req-7");
    await new Promise((resolve, reject) => {
      const send = grpcServiceDefinition(VoiceCode).send;
      client.raw.makeUnaryRequest(
        send.path,
        send.requestSerialize,
        send.responseDeserialize,
        create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234" }),
        metadata,
        (err, value) => (err ? reject(err) : resolve(value)),
      );
    });
    client.close();
    const accepted = lines.find((l) => l.msg === "call accepted" && l.request_id === "grpc-req-7");
    expect(accepted).toBeDefined();
    expect(accepted?.trace_id).toBeUndefined();
  });

  it("puts a Connect Send's x-request-id on the core's lines, and a refusal's", async () => {
    const client = createClient(
      VoiceCode,
      createConnectTransport({
        baseUrl: `http://127.0.0.1:${server.apiPort}`,
        httpVersion: "1.1",
        interceptors: [
          (next) => async (req) => {
            req.header.set("x-request-id", "connect-req-9");
            return next(req);
          },
        ],
      }),
    );
    await client.send({ phoneNumber: "+8613711113333", code: "1234" });
    expect(lines.some((l) => l.msg === "call accepted" && l.request_id === "connect-req-9")).toBe(true);
  });

  it("puts a webhook's request id on its line", async () => {
    lines.length = 0;
    await carrier.scheduler.runAll();
    const stored = lines.filter((l) => l.component === "webhook" && l.msg === "webhook stored");
    expect(stored.length).toBeGreaterThan(0);
    for (const line of stored) expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("sends a WatchStatus's x-request-id with its first message, not at open", async () => {
    const client = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`);
    const sent = await client.send({ phoneNumber: "+8613711114444", code: "1234" });
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "watch-req-3");
    const stream = watch(client, sent.callId, metadata);
    const headers = new Promise<grpc.Metadata>((resolve) => stream.on("metadata", resolve));
    const first = await new Promise((resolve, reject) => {
      stream.once("data", resolve);
      stream.once("error", reject);
    });
    expect(first).toBeDefined();
    expect((await headers).get("x-request-id")).toEqual(["watch-req-3"]);
    stream.cancel();
    client.close();
  });

  it("sends a WatchStatus's x-request-id in its trailers when it fails before any message", async () => {
    const client = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`);
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "watch-req-4");
    const stream = watch(client, "01ARZ3NDEKTSV4RRFFQ69G5FAV", metadata);
    stream.on("data", () => undefined);
    const err = await new Promise<grpc.ServiceError>((resolve) => stream.once("error", resolve));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.metadata.get("x-request-id")).toEqual(["watch-req-4"]);
    client.close();
  });
});
