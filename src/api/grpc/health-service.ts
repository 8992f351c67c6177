/**
 * grpc.health.v1.Health backed by the process Health, for Kubernetes gRPC probes and
 * service meshes. "" and the VoiceCode service name are known; other names are
 * NOT_FOUND on Check and SERVICE_UNKNOWN on Watch, as the protocol specifies.
 */
import { create } from "@bufbuild/protobuf";
import {
  type Health as HealthService,
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../../gen/grpc/health/v1/health_pb.js";
import { VoiceCode } from "../../../gen/voicecode/v1/voicecode_pb.js";
import { VoiceCodeError, notFound } from "../../core/errors.js";
import type { Health } from "../health.js";
import type { MethodsOf, ServiceImpl } from "./implement.js";

const KNOWN_SERVICES: ReadonlySet<string> = new Set(["", VoiceCode.typeName]);

export interface HealthImplOptions {
  readonly health: Health;
  /** Aborts when the server drains: open Watch streams end so the drain can finish. */
  readonly closing: AbortSignal;
}

export function healthImplementation({ health, closing }: HealthImplOptions): ServiceImpl<MethodsOf<typeof HealthService>> {
  const response = (serving: boolean) =>
    create(HealthCheckResponseSchema, { status: serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING });

  return {
    async check(request) {
      if (!KNOWN_SERVICES.has(request.service)) throw notFound("service", "unknown service name");
      return response(health.serving);
    },
    watch(request, signal) {
      return watchHealth(request, AbortSignal.any([signal, closing]), closing, health, response);
    },
  };
}

async function* watchHealth(
  request: HealthCheckRequest,
  signal: AbortSignal,
  closing: AbortSignal,
  health: Health,
  response: (serving: boolean) => HealthCheckResponse,
): AsyncGenerator<HealthCheckResponse> {
  if (!KNOWN_SERVICES.has(request.service)) {
    yield create(HealthCheckResponseSchema, { status: ServingStatus.SERVICE_UNKNOWN });
    await aborted(signal);
  } else {
    let wake = () => {};
    const onChange = () => wake();
    const unsubscribe = health.subscribe(onChange);
    signal.addEventListener("abort", onChange);
    try {
      let sent: boolean | undefined;
      while (!signal.aborted) {
        const serving = health.serving;
        if (serving !== sent) {
          sent = serving;
          yield response(serving);
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      unsubscribe();
      signal.removeEventListener("abort", onChange);
    }
  }
  // Ending with UNAVAILABLE tells a watcher to reconnect (to whatever replaces us).
  if (closing.aborted) throw new VoiceCodeError("UNAVAILABLE", "server is shutting down");
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
