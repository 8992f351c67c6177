/**
 * The three ways users reach the service, behind one test-facing shape: a grpc-js stub
 * and a Connect gRPC client on the gRPC port, a Connect-protocol client on the API port.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import {
  type CheckRequestSchema,
  type CheckResponse,
  type GetCallResponse,
  type NotifyRequestSchema,
  type NotifyResponse,
  type SendRequestSchema,
  type SendResponse,
  VoiceCode,
  type WatchStatusRequestSchema,
  type WatchStatusResponse,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { createGrpcJsClient } from "./grpc-js-client.js";

export type SendInit = MessageInitShape<typeof SendRequestSchema>;
export type NotifyInit = MessageInitShape<typeof NotifyRequestSchema>;
export type WatchInit = MessageInitShape<typeof WatchStatusRequestSchema>;
export type CheckInit = MessageInitShape<typeof CheckRequestSchema>;

export interface TestClient {
  readonly name: string;
  send(init: SendInit): Promise<SendResponse>;
  notify(init: NotifyInit): Promise<NotifyResponse>;
  getCall(callId: string): Promise<GetCallResponse>;
  watch(init: WatchInit, signal?: AbortSignal): AsyncIterable<WatchStatusResponse>;
  check(init: CheckInit): Promise<CheckResponse>;
  close(): void;
}

/** A failed RPC as "invalid_argument: phone_number: ..." whatever the client library. */
export interface RpcFailure {
  readonly code: string;
  readonly message: string;
}

export function rpcFailure(err: unknown): RpcFailure {
  if (err instanceof ConnectError) {
    return { code: codeName(Code[err.code]), message: err.rawMessage };
  }
  const e = err as Partial<ServiceError>;
  if (typeof e.code === "number") {
    return { code: codeName(GrpcStatus[e.code] ?? "UNKNOWN"), message: e.details ?? "" };
  }
  throw err;
}

function codeName(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

export async function failureOf(p: Promise<unknown>): Promise<RpcFailure> {
  try {
    await p;
  } catch (err) {
    return rpcFailure(err);
  }
  throw new Error("expected the RPC to fail");
}

export function grpcJsClient(grpcUrl: string, apiKey?: string): TestClient {
  const client = createGrpcJsClient(new URL(grpcUrl).host, {}, apiKey);
  return {
    name: "grpc-js on the gRPC port",
    send: (init) => client.send(init),
    notify: (init) => client.notify(init),
    getCall: (callId) => client.getCall({ callId }),
    async *watch(init, signal) {
      const stream = client.watchStatus(init);
      const cancel = () => stream.cancel();
      signal?.addEventListener("abort", cancel);
      try {
        for await (const message of stream) yield message as WatchStatusResponse;
      } finally {
        signal?.removeEventListener("abort", cancel);
        stream.cancel();
      }
    },
    check: (init) => client.check(init),
    close: () => client.close(),
  };
}

/** Sends `authorization: Bearer <key>` on every call when a key is given. */
export function bearer(apiKey: string | undefined): Interceptor[] {
  if (apiKey === undefined) return [];
  return [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${apiKey}`);
      return next(req);
    },
  ];
}

function connectClient(name: string, transport: ReturnType<typeof createGrpcTransport>): TestClient {
  const client = createClient(VoiceCode, transport);
  return {
    name,
    send: (init) => client.send(init),
    notify: (init) => client.notify(init),
    getCall: (callId) => client.getCall({ callId }),
    watch: (init, signal) => client.watchStatus(init, signal === undefined ? {} : { signal }),
    check: (init) => client.check(init),
    close() {},
  };
}

export function connectGrpcClient(grpcUrl: string, apiKey?: string): TestClient {
  return connectClient(
    "Connect gRPC transport on the gRPC port",
    createGrpcTransport({ baseUrl: grpcUrl, interceptors: bearer(apiKey) }),
  );
}

export function connectProtocolClient(apiUrl: string, httpVersion: "1.1" | "2" = "1.1", apiKey?: string): TestClient {
  return connectClient(
    `Connect protocol (HTTP/${httpVersion}) on the API port`,
    createConnectTransport({ baseUrl: apiUrl, httpVersion, interceptors: bearer(apiKey) }),
  );
}

export function grpcWebClient(apiUrl: string, apiKey?: string): TestClient {
  return connectClient(
    "gRPC-Web on the API port",
    createGrpcWebTransport({ baseUrl: apiUrl, httpVersion: "1.1", interceptors: bearer(apiKey) }),
  );
}

export const CLIENTS: ReadonlyArray<{
  name: string;
  /** `apiKey`: sent as `authorization: Bearer <key>`. */
  make: (urls: { grpcUrl: string; apiUrl: string }, apiKey?: string) => TestClient;
}> = [
  { name: "grpc-js", make: (u, k) => grpcJsClient(u.grpcUrl, k) },
  { name: "connect-grpc", make: (u, k) => connectGrpcClient(u.grpcUrl, k) },
  { name: "connect-json-h1", make: (u, k) => connectProtocolClient(u.apiUrl, "1.1", k) },
  { name: "connect-json-h2", make: (u, k) => connectProtocolClient(u.apiUrl, "2", k) },
];
