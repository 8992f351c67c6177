/**
 * Server reflection on the gRPC port, through a grpc-js client built from the generated
 * reflection descriptors (what grpcurl does, minus the binary). The descriptors a client
 * gets must be enough to rebuild the service with protobuf-es alone.
 */
import { describe, expect, it, vi } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { type MessageInitShape, create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { type FileDescriptorProto, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionRequestSchema as RequestV1Schema,
  type ServerReflectionResponse as ResponseV1,
  ServerReflectionRequestSchema as RequestV1,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ReflectionV1alpha,
  type ServerReflectionRequestSchema as RequestV1alphaSchema,
  type ServerReflectionResponse as ResponseV1alpha,
  ServerReflectionRequestSchema as RequestV1alpha,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { grpcImplementation } from "../../src/api/grpc/implement.js";
import { grpcServiceDefinition } from "../../src/api/grpc/service-definition.js";
import { startGrpc, track } from "./harness.js";

type Response = ResponseV1 | ResponseV1alpha;

/** One open ServerReflectionInfo stream; `ask` relies on answers coming in request order. */
interface ReflectionStream<Init> {
  ask(request: Init): Promise<Response>;
  readonly call: grpc.ClientDuplexStream<unknown, Response>;
  /** The final status once the stream has ended. */
  readonly ended: Promise<grpc.StatusObject>;
}

function openStream<S extends GenServiceMethods, Init>(
  service: GenService<S>,
  toMessage: (init: Init) => unknown,
  address: string,
  options: grpc.CallOptions = {},
): ReflectionStream<Init> {
  const definition = grpcServiceDefinition(service);
  const method = Object.values(definition)[0];
  if (method === undefined) throw new Error("no method");
  const Client = grpc.makeGenericClientConstructor(definition, service.typeName);
  const client = new Client(address, grpc.credentials.createInsecure());
  track(() => client.close());
  const call = client.makeBidiStreamRequest(
    method.path,
    method.requestSerialize as (value: unknown) => Buffer,
    method.responseDeserialize as (bytes: Buffer) => Response,
    new grpc.Metadata(),
    options,
  );
  track(() => call.cancel());
  const waiting: Array<(response: Response) => void> = [];
  call.on("data", (response: Response) => waiting.shift()?.(response));
  call.on("error", () => undefined);
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  return {
    ask(request) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        call.write(toMessage(request));
      });
    },
    call,
    ended,
  };
}

const openV1 = (address: string, options?: grpc.CallOptions) =>
  openStream(ReflectionV1, (init: MessageInitShape<typeof RequestV1Schema>) => create(RequestV1, init), address, options);
const openV1alpha = (address: string) =>
  openStream(ReflectionV1alpha, (init: MessageInitShape<typeof RequestV1alphaSchema>) => create(RequestV1alpha, init), address);

function descriptors(response: Response): FileDescriptorProto[] {
  if (response.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected file descriptors, got ${response.messageResponse.case ?? "nothing"}`);
  }
  return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

function fileNames(response: Response): string[] {
  return descriptors(response).map((f) => f.name);
}

/** Rebuilds the first (asked-for) file from the response alone: fails if an import is missing. */
function rebuild(response: Response) {
  const [first, ...rest] = descriptors(response);
  if (first === undefined) throw new Error("empty response");
  const byName = new Map(rest.map((f) => [f.name, f]));
  return createFileRegistry(first, (name) => byName.get(name));
}

function errorOf(response: Response): { errorCode: number; errorMessage: string } | undefined {
  return response.messageResponse.case === "errorResponse" ? response.messageResponse.value : undefined;
}

describe("gRPC server reflection", () => {
  it("lists the served services", async () => {
    const { address } = await startGrpc();
    const stream = openV1(address);
    const response = await stream.ask({ messageRequest: { case: "listServices", value: "" } });
    expect(response.messageResponse.case).toBe("listServicesResponse");
    const names = response.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service.map((s) => s.name) : [];
    expect(names).toEqual(
      expect.arrayContaining([
        "voicecode.v1.VoiceCode",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]),
    );
    expect(response.originalRequest?.messageRequest.case).toBe("listServices");
  });

  it("answers file_containing_symbol for the service with its file and every import", async () => {
    const { address } = await startGrpc();
    const stream = openV1(address);
    const response = await stream.ask({ messageRequest: { case: "fileContainingSymbol", value: "voicecode.v1.VoiceCode" } });
    const names = fileNames(response);
    expect(names[0]).toBe("voicecode/v1/voicecode.proto");
    expect(names).toContain("google/protobuf/timestamp.proto");
    expect(new Set(names).size).toBe(names.length);

    const registry = rebuild(response);
    const service = registry.getService("voicecode.v1.VoiceCode");
    expect(service?.methods.map((m) => [m.name, m.methodKind])).toEqual([
      ["Send", "unary"],
      ["GetCall", "unary"],
      ["WatchStatus", "server_streaming"],
      ["Check", "unary"],
      ["Notify", "unary"],
    ]);
    const send = service?.methods.find((m) => m.name === "Send");
    expect(send?.input.typeName).toBe("voicecode.v1.SendRequest");
    expect(send?.input.fields.map((f) => f.name)).toContain("phone_number");
    const createTime = registry.getMessage("voicecode.v1.Call")?.fields.find((f) => f.name === "create_time");
    expect(createTime?.message?.typeName).toBe("google.protobuf.Timestamp");
  });

  it("answers methods, messages, enums and nested types; unknown symbols are NOT_FOUND", async () => {
    const { address } = await startGrpc();
    const stream = openV1(address);
    const fileOf = async (symbol: string) =>
      fileNames(await stream.ask({ messageRequest: { case: "fileContainingSymbol", value: symbol } }))[0];

    expect(await fileOf("voicecode.v1.VoiceCode.Send")).toBe("voicecode/v1/voicecode.proto");
    expect(await fileOf("voicecode.v1.SendRequest")).toBe("voicecode/v1/voicecode.proto");
    expect(await fileOf("voicecode.v1.SendRequest.MetadataEntry")).toBe("voicecode/v1/voicecode.proto");
    expect(await fileOf("voicecode.v1.CallState")).toBe("voicecode/v1/voicecode.proto");
    expect(await fileOf("grpc.health.v1.HealthCheckResponse.ServingStatus")).toBe("grpc/health/v1/health.proto");
    expect(await fileOf("grpc.health.v1.Health.Watch")).toBe("grpc/health/v1/health.proto");
    expect(await fileOf("google.protobuf.Timestamp")).toBe("google/protobuf/timestamp.proto");
    expect(await fileOf("grpc.reflection.v1.ServerReflection")).toBe("grpc/reflection/v1/reflection.proto");

    const unknown = await stream.ask({ messageRequest: { case: "fileContainingSymbol", value: "voicecode.v1.Nope" } });
    expect(errorOf(unknown)).toMatchObject({ errorCode: grpc.status.NOT_FOUND });
    const unknownMethod = await stream.ask({ messageRequest: { case: "fileContainingSymbol", value: "voicecode.v1.VoiceCode.Nope" } });
    expect(errorOf(unknownMethod)?.errorCode).toBe(grpc.status.NOT_FOUND);
  });

  it("answers file_by_filename; unknown files and extensions are NOT_FOUND", async () => {
    const { address } = await startGrpc();
    const stream = openV1(address);
    const health = await stream.ask({ messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } });
    expect(fileNames(health)).toEqual(["grpc/health/v1/health.proto"]);
    expect(rebuild(health).getService("grpc.health.v1.Health")?.methods.map((m) => m.name)).toEqual(["Check", "Watch"]);

    const voicecode = await stream.ask({ messageRequest: { case: "fileByFilename", value: "voicecode/v1/voicecode.proto" } });
    expect(rebuild(voicecode).getMessage("voicecode.v1.StatusEvent")).toBeDefined();

    const missing = await stream.ask({ messageRequest: { case: "fileByFilename", value: "nope.proto" } });
    expect(errorOf(missing)?.errorCode).toBe(grpc.status.NOT_FOUND);
    const extension = await stream.ask({
      messageRequest: { case: "fileContainingExtension", value: { containingType: "voicecode.v1.SendRequest", extensionNumber: 100 } },
    });
    expect(errorOf(extension)?.errorCode).toBe(grpc.status.NOT_FOUND);
    const numbers = await stream.ask({ messageRequest: { case: "allExtensionNumbersOfType", value: "voicecode.v1.SendRequest" } });
    expect(numbers.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "voicecode.v1.SendRequest", extensionNumber: [] },
    });
  });

  it("serves v1alpha with the same answers", async () => {
    const { address } = await startGrpc();
    const stream = openV1alpha(address);
    const list = await stream.ask({ messageRequest: { case: "listServices", value: "*" } });
    expect(list.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionResponse");
    expect(list.messageResponse.case === "listServicesResponse" && list.messageResponse.value.service.map((s) => s.name)).toContain(
      "voicecode.v1.VoiceCode",
    );
    const symbol = await stream.ask({ messageRequest: { case: "fileContainingSymbol", value: "voicecode.v1.VoiceCode" } });
    expect(rebuild(symbol).getService("voicecode.v1.VoiceCode")?.methods).toHaveLength(5);
    const unknown = await stream.ask({ messageRequest: { case: "fileContainingSymbol", value: "nope.Nope" } });
    expect(errorOf(unknown)?.errorCode).toBe(grpc.status.NOT_FOUND);
  });

  it("answers several requests on one stream in order, then ends OK when the client half-closes", async () => {
    const { address } = await startGrpc();
    const stream = openV1(address);
    const [a, b, c] = await Promise.all([
      stream.ask({ host: "h", messageRequest: { case: "fileContainingSymbol", value: "voicecode.v1.GetCallRequest" } }),
      stream.ask({ messageRequest: { case: "listServices", value: "" } }),
      stream.ask({ messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } }),
    ]);
    expect(a?.validHost).toBe("h");
    expect(a?.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "voicecode.v1.GetCallRequest" });
    expect(b?.messageResponse.case).toBe("listServicesResponse");
    expect(c && fileNames(c)).toEqual(["grpc/health/v1/health.proto"]);

    stream.call.end();
    expect((await stream.ended).code).toBe(grpc.status.OK);
  });

  it("ends open reflection streams with UNAVAILABLE when the server drains", async () => {
    const { address, server } = await startGrpc();
    const stream = openV1(address);
    await stream.ask({ messageRequest: { case: "listServices", value: "" } });
    const drained = server.drain();
    expect((await stream.ended).code).toBe(grpc.status.UNAVAILABLE);
    await drained;
  });
});

describe("bidi streaming handlers (grpcImplementation)", () => {
  /** A reflection-shaped echo whose loop records how it ended. */
  async function startEcho() {
    const log: string[] = [];
    const server = new grpc.Server();
    server.addService(
      grpcServiceDefinition(ReflectionV1),
      grpcImplementation(ReflectionV1, {
        async *serverReflectionInfo(requests) {
          try {
            for await (const request of requests) {
              log.push(`got ${request.host}`);
              yield { $typeName: "grpc.reflection.v1.ServerReflectionResponse", validHost: request.host, messageResponse: { case: undefined } };
            }
            log.push("requests ended");
          } finally {
            log.push("released");
          }
        },
      }),
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    track(() => server.forceShutdown());
    return { log, address: `127.0.0.1:${port}` };
  }

  it("ends the request loop and releases the handler when the client cancels", async () => {
    const { log, address } = await startEcho();
    const stream = openV1(address);
    expect((await stream.ask({ host: "one" })).validHost).toBe("one");
    expect(log).toEqual(["got one"]);

    stream.call.cancel();
    expect((await stream.ended).code).toBe(grpc.status.CANCELLED);
    await vi.waitFor(() => expect(log).toEqual(["got one", "requests ended", "released"]));
  });

  it("ends the request loop and releases the handler when the deadline passes", async () => {
    const { log, address } = await startEcho();
    const stream = openV1(address, { deadline: Date.now() + 300 });
    await stream.ask({ host: "one" });
    expect((await stream.ended).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await vi.waitFor(() => expect(log).toEqual(["got one", "requests ended", "released"]));
  });

  it("ends the request loop on half-close and the call with OK", async () => {
    const { log, address } = await startEcho();
    const stream = openV1(address);
    await stream.ask({ host: "one" });
    await stream.ask({ host: "two" });
    stream.call.end();
    expect((await stream.ended).code).toBe(grpc.status.OK);
    expect(log).toEqual(["got one", "got two", "requests ended", "released"]);
  });
});
