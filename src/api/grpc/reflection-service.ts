/**
 * grpc.reflection.v1 and v1alpha ServerReflection, so grpcurl, grpcui and mesh tooling
 * can list and describe the API without a copy of our protos. Answers come from the
 * protobuf-es descriptors the server is built from, so they cannot drift from what is
 * served. Only the schema is exposed, never data; the gRPC port is internal.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import type { DescEnum, DescExtension, DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import {
  type ServerReflection as ServerReflectionV1,
  ServerReflectionResponseSchema as ResponseV1Schema,
  file_grpc_reflection_v1_reflection,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  type ServerReflection as ServerReflectionV1alpha,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
  file_grpc_reflection_v1alpha_reflection,
} from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { VoiceCodeError } from "../../core/errors.js";
import type { MethodsOf, ServiceImpl } from "./implement.js";
import { takeUntil } from "./stream-pump.js";

/** The reflection files themselves: clients describe the reflection service too. */
export const REFLECTION_FILES: readonly DescFile[] = [
  file_grpc_reflection_v1_reflection,
  file_grpc_reflection_v1alpha_reflection,
];

export interface ReflectionOptions {
  /** The services to list, in order (include the reflection services: they are served too). */
  readonly services: readonly DescService[];
  /** Files to describe besides the services' own; imports are followed automatically. */
  readonly files?: readonly DescFile[];
  /** Aborts when the server drains: open reflection streams end so the drain can finish. */
  readonly closing: AbortSignal;
}

/** The `message_request` oneof, shared by v1 and v1alpha (same fields, different type names). */
type RequestBody =
  | { case: "fileByFilename"; value: string }
  | { case: "fileContainingSymbol"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: "allExtensionNumbersOfType"; value: string }
  | { case: "listServices"; value: string }
  | { case: undefined; value?: undefined };

/** The `message_response` oneof as init values, which fit either version's schema. */
type ResponseBody =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

export interface ReflectionImplementations {
  readonly v1: ServiceImpl<MethodsOf<typeof ServerReflectionV1>>;
  readonly v1alpha: ServiceImpl<MethodsOf<typeof ServerReflectionV1alpha>>;
}

export function reflectionImplementations({ services, files = [], closing }: ReflectionOptions): ReflectionImplementations {
  const index = buildIndex([...services.map((s) => s.file), ...files, ...REFLECTION_FILES]);
  const serviceNames = services.map((s) => ({ name: s.typeName }));
  const answer = (body: RequestBody) => respond(index, serviceNames, body);

  // The two versions differ only in type names, hence two thin loops over one `answer`.
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const request of takeUntil(requests, closing)) {
          yield create(ResponseV1Schema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(request.messageRequest),
          });
        }
        throwIfClosing(closing);
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        for await (const request of takeUntil(requests, closing)) {
          yield create(ResponseV1alphaSchema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(request.messageRequest),
          });
        }
        throwIfClosing(closing);
      },
    },
  };
}

function throwIfClosing(closing: AbortSignal): void {
  // UNAVAILABLE tells the client to reconnect (to whatever replaces us), as health Watch does.
  if (closing.aborted) throw new VoiceCodeError("UNAVAILABLE", "server is shutting down");
}

interface Index {
  /** By file name as imported ("voicecode/v1/voicecode.proto"). */
  readonly files: ReadonlyMap<string, DescFile>;
  /** Serialized FileDescriptorProto by file name, encoded once: the schema never changes. */
  readonly encoded: ReadonlyMap<string, Uint8Array>;
  /** Every fully-qualified name a client may ask about, to the file declaring it. */
  readonly symbols: ReadonlyMap<string, DescFile>;
  /** "extendee#number" to the extension. */
  readonly extensions: ReadonlyMap<string, DescExtension>;
  readonly messages: ReadonlySet<string>;
}

function buildIndex(roots: readonly DescFile[]): Index {
  const files = new Map<string, DescFile>();
  const encoded = new Map<string, Uint8Array>();
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, DescExtension>();
  const messages = new Set<string>();

  const addExtension = (ext: DescExtension) => {
    symbols.set(ext.typeName, ext.file);
    extensions.set(`${ext.extendee.typeName}#${ext.number}`, ext);
  };
  // Enum values are scoped like siblings of their enum (protobuf's C++ scoping rule).
  const addEnum = (e: DescEnum, scope: string) => {
    symbols.set(e.typeName, e.file);
    for (const value of e.values) symbols.set(`${scope}${value.name}`, e.file);
  };
  const addMessage = (m: DescMessage) => {
    symbols.set(m.typeName, m.file);
    messages.add(m.typeName);
    for (const field of m.fields) symbols.set(`${m.typeName}.${field.name}`, m.file);
    for (const oneof of m.oneofs) symbols.set(`${m.typeName}.${oneof.name}`, m.file);
    // Map entry types are left out of nestedMessages but are real (nested) messages.
    for (const nested of m.proto.nestedType) symbols.set(`${m.typeName}.${nested.name}`, m.file);
    for (const nested of m.nestedMessages) addMessage(nested);
    for (const nested of m.nestedEnums) addEnum(nested, `${m.typeName}.`);
    for (const nested of m.nestedExtensions) addExtension(nested);
  };
  const addFile = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    encoded.set(file.proto.name, toBinary(FileDescriptorProtoSchema, file.proto));
    const scope = file.proto.package === "" ? "" : `${file.proto.package}.`;
    for (const service of file.services) {
      symbols.set(service.typeName, file);
      for (const method of service.methods) symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) addMessage(message);
    for (const e of file.enums) addEnum(e, scope);
    for (const ext of file.extensions) addExtension(ext);
    for (const dependency of file.dependencies) addFile(dependency);
  };
  for (const file of roots) addFile(file);
  return { files, encoded, symbols, extensions, messages };
}

function respond(index: Index, services: readonly { name: string }[], body: RequestBody): ResponseBody {
  switch (body.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: [...services] } };
    case "fileByFilename":
      return withDependencies(index, index.files.get(body.value), `file not found: ${body.value}`);
    case "fileContainingSymbol":
      // Clients may send a leading dot (".pkg.Type", the descriptor spelling).
      return withDependencies(index, index.symbols.get(body.value.replace(/^\./, "")), `symbol not found: ${body.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = body.value;
      const ext = index.extensions.get(`${containingType.replace(/^\./, "")}#${extensionNumber}`);
      return withDependencies(index, ext?.file, `extension not found: ${containingType}(${extensionNumber})`);
    }
    case "allExtensionNumbersOfType": {
      const typeName = body.value.replace(/^\./, "");
      if (!index.messages.has(typeName)) return error(status.NOT_FOUND, `type not found: ${body.value}`);
      const numbers = [...index.extensions.values()].filter((e) => e.extendee.typeName === typeName).map((e) => e.number);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: typeName, extensionNumber: numbers } };
    }
    default:
      return error(status.INVALID_ARGUMENT, "no message_request set");
  }
}

/**
 * The file first (grpcurl's client takes the first entry as the answer), then everything
 * it imports, transitively, each once: the client can then build the file without asking
 * again. Files sent earlier on the stream are sent again; the protocol allows either.
 */
function withDependencies(index: Index, file: DescFile | undefined, notFound: string): ResponseBody {
  if (file === undefined) return error(status.NOT_FOUND, notFound);
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    const bytes = index.encoded.get(f.proto.name);
    if (bytes !== undefined) out.push(bytes);
    for (const dependency of f.dependencies) visit(dependency);
  };
  visit(file);
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
}

function error(code: status, message: string): ResponseBody {
  return { case: "errorResponse", value: { errorCode: code, errorMessage: message } };
}
