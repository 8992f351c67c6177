/**
 * The gRPC port: grpc-js serving voicecode.v1.VoiceCode, grpc.health.v1.Health and
 * server reflection (v1 and v1alpha), with protobuf-es doing the (de)serialization
 * from the generated descriptors.
 */
import { type Metadata, Server, ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { Health as HealthService } from "../../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { VoiceCode } from "../../../gen/voicecode/v1/voicecode_pb.js";
import type { Authenticator } from "../../auth/authenticator.js";
import { openAuthenticator, requireCaller } from "../../auth/require-caller.js";
import type { Caller } from "../../core/caller.js";
import type { VoiceCodeHandlers } from "../../core/handlers.js";
import { describeForLog, isUnexpected } from "../errors.js";
import type { Health } from "../health.js";
import { healthImplementation } from "./health-service.js";
import { type MethodsOf, type ServiceImpl, grpcImplementation } from "./implement.js";
import { reflectionImplementations } from "./reflection-service.js";
import { grpcServiceDefinition } from "./service-definition.js";
import { type LogBindings, startRequest } from "../../telemetry/request-scope.js";

const MiB = 1024 * 1024;

export const DEFAULT_GRPC_SERVER_OPTIONS: ServerOptions = {
  // Ping every idle connection so a peer that vanished without a FIN (NAT timeout,
  // pulled cable) is noticed and its watch streams are released within ~40 s.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // The policy we allow clients: pings without calls, no more often than every 10 s.
  // grpc-js 1.14 servers don't enforce either (they answer every ping); set so the
  // intent holds if they start to.
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  // Our messages are a few hundred bytes; anything near this is a mistake or an attack.
  "grpc.max_receive_message_length": 1 * MiB,
  "grpc.max_send_message_length": 1 * MiB,
};

export interface GrpcServerOptions {
  readonly handlers: VoiceCodeHandlers;
  readonly health: Health;
  readonly logger?: Logger;
  /** Who may call voicecode.v1.VoiceCode (health and reflection need no key). Default: open. */
  readonly authenticator?: Authenticator;
  /** Merged over DEFAULT_GRPC_SERVER_OPTIONS. */
  readonly options?: ServerOptions;
  /** TLS (src/tls/grpc-credentials.ts). Default: plaintext, for a mesh sidecar to wrap. */
  readonly credentials?: ServerCredentials;
}

export interface GrpcServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting and waits for in-flight calls; ends health Watch and reflection streams. Idempotent. */
  drain(): Promise<void>;
  /** Cuts every connection now; in-flight handlers see their signal abort. */
  forceClose(): void;
}

/**
 * VoiceCode with the caller taken from `authorization` metadata before the core sees the
 * request. A throw here happens inside implement.ts's async wrappers, so it becomes the
 * UNAUTHENTICATED status like any handler error.
 */
function authenticated(
  handlers: VoiceCodeHandlers,
  authenticator: Authenticator,
): ServiceImpl<MethodsOf<typeof VoiceCode>> {
  const caller = (metadata: Metadata, logBindings: LogBindings | undefined): Caller => {
    const values = metadata.get("authorization");
    // Two authorization headers are ambiguous: refused like a wrong key.
    const header = values.length === 1 && typeof values[0] === "string" ? values[0] : undefined;
    const known = requireCaller(authenticator, header);
    return logBindings === undefined ? known : { ...known, logBindings };
  };
  // Pushed when the core can (no promise chain or AbortSignal per idle stream), else pumped.
  const push = handlers.pushWatchStatus?.bind(handlers);
  return {
    send: (request, signal, metadata, bindings) => handlers.send(request, signal, caller(metadata, bindings)),
    notify: (request, signal, metadata, bindings) => handlers.notify(request, signal, caller(metadata, bindings)),
    getCall: (request, signal, metadata, bindings) => handlers.getCall(request, signal, caller(metadata, bindings)),
    watchStatus:
      push === undefined
        ? (request, signal, metadata, bindings) => handlers.watchStatus(request, signal, caller(metadata, bindings))
        : { push: (request, sink, metadata, bindings) => push(request, caller(metadata, bindings), sink) },
    check: (request, signal, metadata, bindings) => handlers.check(request, signal, caller(metadata, bindings)),
  };
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const log = options.logger?.child({ component: "grpc" });
  const server = new Server({ ...DEFAULT_GRPC_SERVER_OPTIONS, ...options.options });
  const closing = new AbortController();
  const onError = (method: DescMethod, err: unknown, logBindings?: LogBindings) => {
    if (isUnexpected(err)) {
      log?.error(
        { ...logBindings, method: `${method.parent.typeName}/${method.name}`, err: describeForLog(err) },
        "handler failed",
      );
    }
  };

  server.addService(
    grpcServiceDefinition(VoiceCode),
    grpcImplementation(VoiceCode, authenticated(options.handlers, options.authenticator ?? openAuthenticator), {
      onError,
      // Request id, span and log context per call (health and reflection go without).
      scope: (method, metadata) =>
        startRequest({
          name: `${method.parent.typeName}/${method.name}`,
          header: (name) => {
            const values = metadata.get(name);
            return values.length === 1 && typeof values[0] === "string" ? values[0] : undefined;
          },
          attributes: { "rpc.system": "grpc", "rpc.service": method.parent.typeName, "rpc.method": method.name },
        }),
    }),
  );
  server.addService(
    grpcServiceDefinition(HealthService),
    grpcImplementation(HealthService, healthImplementation({ health: options.health, closing: closing.signal }), {
      onError,
    }),
  );
  // Always on: it exposes only the API schema (no data), and this port is internal.
  const reflection = reflectionImplementations({
    services: [VoiceCode, HealthService, ReflectionV1, ReflectionV1alpha],
    closing: closing.signal,
  });
  server.addService(grpcServiceDefinition(ReflectionV1), grpcImplementation(ReflectionV1, reflection.v1, { onError }));
  server.addService(
    grpcServiceDefinition(ReflectionV1alpha),
    grpcImplementation(ReflectionV1alpha, reflection.v1alpha, { onError }),
  );

  let draining: Promise<void> | undefined;
  return {
    listen(host, port) {
      const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, options.credentials ?? ServerCredentials.createInsecure(), (err, bound) => {
          if (err) reject(err);
          else resolve(bound);
        });
      });
    },
    drain() {
      draining ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.tryShutdown((err) => (err ? reject(err) : resolve()));
      });
      return draining;
    },
    forceClose() {
      closing.abort();
      server.forceShutdown();
    },
  };
}
