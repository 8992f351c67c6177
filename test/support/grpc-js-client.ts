/**
 * A typed grpc-js client for tests, built from the same protobuf-es descriptors as the
 * server (one set of generated types). Unary methods reject with the grpc ServiceError.
 */
import * as grpc from "@grpc/grpc-js";
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import {
  Health,
  type HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckRequestSchema as HealthCheckRequest,
} from "../../gen/grpc/health/v1/health_pb.js";
import {
  type CheckRequestSchema,
  type CheckResponse,
  CheckRequestSchema as CheckRequest,
  type GetCallRequestSchema,
  type GetCallResponse,
  GetCallRequestSchema as GetCallRequest,
  type NotifyRequestSchema,
  type NotifyResponse,
  NotifyRequestSchema as NotifyRequest,
  type SendRequestSchema,
  type SendResponse,
  SendRequestSchema as SendRequest,
  VoiceCode,
  type WatchStatusRequestSchema,
  type WatchStatusResponse,
  WatchStatusRequestSchema as WatchStatusRequest,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { grpcServiceDefinition } from "../../src/api/grpc/service-definition.js";

export interface GrpcJsClient {
  send(req: MessageInitShape<typeof SendRequestSchema>, options?: grpc.CallOptions): Promise<SendResponse>;
  notify(req: MessageInitShape<typeof NotifyRequestSchema>, options?: grpc.CallOptions): Promise<NotifyResponse>;
  getCall(req: MessageInitShape<typeof GetCallRequestSchema>, options?: grpc.CallOptions): Promise<GetCallResponse>;
  watchStatus(
    req: MessageInitShape<typeof WatchStatusRequestSchema>,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<WatchStatusResponse>;
  check(req: MessageInitShape<typeof CheckRequestSchema>, options?: grpc.CallOptions): Promise<CheckResponse>;
  readonly raw: grpc.Client;
  close(): void;
}

export interface GrpcJsHealthClient {
  check(req: MessageInitShape<typeof HealthCheckRequestSchema>): Promise<HealthCheckResponse>;
  watch(req: MessageInitShape<typeof HealthCheckRequestSchema>): grpc.ClientReadableStream<HealthCheckResponse>;
  readonly raw: grpc.Client;
  close(): void;
}

/**
 * `address` is host:port, e.g. "127.0.0.1:50051"; `apiKey` goes in `authorization: Bearer`;
 * `credentials` default to plaintext.
 */
export function createGrpcJsClient(
  address: string,
  channelOptions: grpc.ChannelOptions = {},
  apiKey?: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): GrpcJsClient {
  const definition = grpcServiceDefinition(VoiceCode);
  const Client = grpc.makeGenericClientConstructor(definition, VoiceCode.typeName);
  const raw = new Client(address, credentials, channelOptions);
  const md = (): grpc.Metadata => {
    const m = new grpc.Metadata();
    if (apiKey !== undefined) m.set("authorization", `Bearer ${apiKey}`);
    return m;
  };
  return {
    send: (req, options) => unary(raw, definition.send, create(SendRequest, req), options, md()),
    notify: (req, options) => unary(raw, definition.notify, create(NotifyRequest, req), options, md()),
    getCall: (req, options) => unary(raw, definition.getCall, create(GetCallRequest, req), options, md()),
    watchStatus: (req, options) =>
      serverStream(raw, definition.watchStatus, create(WatchStatusRequest, req), options, md()),
    check: (req, options) => unary(raw, definition.check, create(CheckRequest, req), options, md()),
    raw,
    close: () => raw.close(),
  };
}

export function createGrpcJsHealthClient(address: string): GrpcJsHealthClient {
  const definition = grpcServiceDefinition(Health);
  const Client = grpc.makeGenericClientConstructor(definition, Health.typeName);
  const raw = new Client(address, grpc.credentials.createInsecure());
  return {
    check: (req) => unary(raw, definition.check, create(HealthCheckRequest, req)),
    watch: (req) => serverStream(raw, definition.watch, create(HealthCheckRequest, req)),
    raw,
    close: () => raw.close(),
  };
}

function unary<I, O>(
  client: grpc.Client,
  method: grpc.MethodDefinition<I, O>,
  request: I,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata(),
): Promise<O> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadata,
      options,
      (err, response) => {
        if (err) reject(err);
        else if (response === undefined) reject(new Error("no response"));
        else resolve(response);
      },
    );
  });
}

function serverStream<I, O>(
  client: grpc.Client,
  method: grpc.MethodDefinition<I, O>,
  request: I,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata(),
): grpc.ClientReadableStream<O> {
  return client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    request,
    metadata,
    options,
  );
}
