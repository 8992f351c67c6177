/**
 * Spans and request ids: a Send's RPC span is the child of the client's traceparent and
 * the parent of its store and provider spans; a webhook's span is the parent of its store
 * spans; x-request-id comes back in the response and is on the request's log lines.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { SendRequestSchema, VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";
import { grpcServiceDefinition } from "../../src/api/grpc/service-definition.js";
import { createLogger } from "../../src/logger.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { jsonLogLines } from "../support/log-lines.js";
import { type Carrier, createCarrier, testConfig } from "../support/test-server.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN}-01`;

const exporter = new InMemorySpanExporter();
const { sink, lines } = jsonLogLines();
let carrier: Carrier;
let server: RunningServer;

beforeAll(async () => {
  carrier = createCarrier();
  server = await startServer({
    config: testConfig(),
    logger: createLogger("info", sink),
    sandboxNetwork: carrier.network,
    spanExporter: exporter,
  });
  carrier.target = server.sandboxCallbackUrl;
});
afterAll(async () => {
  await server.stop();
  carrier.network.close();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const childrenOf = (span: ReadableSpan) =>
  exporter.getFinishedSpans().filter((s) => parentOf(s) === span.spanContext().spanId);

/** Resolves once the span named `name` has ended (spans end after the response is sent). */
async function ended(name: string, where: (s: ReadableSpan) => boolean = () => true): Promise<ReadableSpan> {
  for (;;) {
    const span = exporter.getFinishedSpans().find((s) => s.name === name && where(s));
    if (span !== undefined) return span;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("tracing and request ids", () => {
  it("makes a grpc-js Send's span the child of its traceparent, and the parent of store and provider spans", async () => {
    exporter.reset();
    const client = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`);
    const metadata = new grpc.Metadata();
    metadata.set("traceparent", TRACEPARENT);
    metadata.set("x-request-id", "req-from-client-1");
    let responseRequestId: unknown;
    const sent = await new Promise((resolve, reject) => {
      const send = grpcServiceDefinition(VoiceCode).send;
      const call = client.raw.makeUnaryRequest(
        send.path,
        send.requestSerialize,
        send.responseDeserialize,
        create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234" }),
        metadata,
        (err, value) => (err ? reject(err) : resolve(value)),
      );
      call.on("metadata", (m) => {
        responseRequestId = m.get("x-request-id")[0];
      });
    });
    client.close();
    expect((sent as { callId: string }).callId).toMatch(/^[0-9A-Z]{26}$/);
    expect(responseRequestId).toBe("req-from-client-1");

    const rpc = await ended("voicecode.v1.VoiceCode/Send");
    expect(rpc.spanContext().traceId).toBe(TRACE_ID);
    expect(parentOf(rpc)).toBe(PARENT_SPAN);
    expect(rpc.attributes["request.id"]).toBe("req-from-client-1");
    const children = childrenOf(rpc).map((s) => s.name);
    expect(children).toContain("store.createCall");
    expect(children).toContain("store.recordSendResult");
    expect(children).toContain("provider.send");
    const provider = childrenOf(rpc).find((s) => s.name === "provider.send");
    expect(provider?.attributes["voicecode.provider"]).toBe("sandbox");

    const accepted = lines.find((l) => l.msg === "call accepted" && l.request_id === "req-from-client-1");
    expect(accepted?.trace_id).toBe(TRACE_ID);
  });

  it("gives a webhook its own span, the parent of its store spans, and returns its request id", async () => {
    exporter.reset();
    await carrier.scheduler.runAll();
    const webhook = await ended("webhook sandbox");
    expect(childrenOf(webhook).map((s) => s.name)).toContain("store.ingest");
    // The webhook's ids are on its log line.
    const logged = lines.find((l) => l.component === "webhook" && typeof l.request_id === "string");
    expect(logged?.trace_id).toBe(webhook.spanContext().traceId);
  });

  it("keeps a grpc-js WatchStatus's later store reads under its own span, not the webhook's that woke it", async () => {
    const client = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`);
    const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    const call = client.watchStatus({ target: { case: "callId", value: sent.callId } });
    call.on("error", () => undefined);
    const done = new Promise<void>((resolve) => call.on("status", () => resolve()));
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    // Only what follows the replay: the callbacks' webhooks wake the idle watch.
    exporter.reset();
    await carrier.scheduler.runAll();
    await done;
    client.close();
    const watch = await ended("voicecode.v1.VoiceCode/WatchStatus");
    const webhooks = exporter.getFinishedSpans().filter((s) => s.name === "webhook sandbox");
    expect(webhooks.length).toBeGreaterThan(0);
    for (const webhook of webhooks) {
      expect(childrenOf(webhook).map((s) => s.name)).not.toContain("store.listEvents");
    }
    expect(childrenOf(watch).map((s) => s.name)).toContain("store.listEvents");
  });

  it("replaces an x-request-id that is not a sane token (it goes into logs) and keeps serving", async () => {
    let header: string | null = null;
    const client = createClient(
      VoiceCode,
      createConnectTransport({
        baseUrl: `http://127.0.0.1:${server.apiPort}`,
        httpVersion: "1.1",
        interceptors: [
          (next) => async (req) => {
            req.header.set("x-request-id", `a b {"injected":1} ${"x".repeat(200)}`);
            const res = await next(req);
            header = res.header.get("x-request-id");
            return res;
          },
        ],
      }),
    );
    await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    expect(header).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes or generates x-request-id on the API port, and continues the traceparent sent there", async () => {
    exporter.reset();
    let header: string | null = null;
    const client = createClient(
      VoiceCode,
      createConnectTransport({
        baseUrl: `http://127.0.0.1:${server.apiPort}`,
        httpVersion: "1.1",
        interceptors: [
          (next) => async (req) => {
            req.header.set("traceparent", TRACEPARENT);
            const res = await next(req);
            header = res.header.get("x-request-id");
            return res;
          },
        ],
      }),
    );
    await client.send({ phoneNumber: "+8613711112222", code: "1234" });
    expect(header).toMatch(/^[0-9a-f-]{36}$/);
    const rpc = await ended("voicecode.v1.VoiceCode/Send");
    expect(parentOf(rpc)).toBe(PARENT_SPAN);
    expect(childrenOf(rpc).map((s) => s.name)).toContain("provider.send");
  });
});
