/**
 * grpc-js service definitions derived from the protobuf-es descriptors, so there is one
 * set of generated types: grpc-js moves bytes, protobuf-es (de)serializes them.
 */
import type { MethodDefinition } from "@grpc/grpc-js";
import { type DescMessage, type Message, type MessageShape, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";

/** Keyed by each method's localName ("send", "getCall", ...), like the descriptor's `method`. */
export type GrpcServiceDefinition<S extends GenServiceMethods> = {
  readonly [K in keyof S]: MethodDefinition<MessageShape<S[K]["input"]>, MessageShape<S[K]["output"]>>;
};

export function grpcServiceDefinition<S extends GenServiceMethods>(service: GenService<S>): GrpcServiceDefinition<S> {
  const definition: Record<string, MethodDefinition<Message, Message>> = {};
  for (const method of service.methods) {
    const kind = method.methodKind;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: kind === "client_streaming" || kind === "bidi_streaming",
      responseStream: kind === "server_streaming" || kind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  // The loop above builds exactly the mapped type; TypeScript cannot follow it key by key.
  return definition as unknown as GrpcServiceDefinition<S>;
}

function serializer(schema: DescMessage): (message: Message) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message);
    // Wrap, don't copy: the bytes are ours alone.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => Message {
  return (bytes) => fromBinary(schema, bytes);
}
