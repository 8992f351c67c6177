/**
 * Retiring long-lived gRPC connections. A service mesh (or any L4/L7 balancer) balances
 * connections, not calls, and WatchStatus streams keep a connection busy for as long as
 * a call lasts, so without an age limit old replicas keep their clients and new ones get
 * none. An aged connection gets a GOAWAY (new calls go on a new connection, possibly to
 * another replica); after the grace it is closed, and a watch still open on it ends with
 * UNAVAILABLE and resumes with after_sequence.
 */
import type { ServerOptions } from "@grpc/grpc-js";

export interface GrpcConnectionSettings {
  /** Undefined: connections live as long as their peers keep them. */
  readonly maxAgeMs: number | undefined;
  /** How long a retired connection's calls may still run before it is closed. */
  readonly maxAgeGraceMs: number;
}

/** The grpc-js server options for the settings; none when recycling is off. */
export function grpcConnectionOptions(settings: GrpcConnectionSettings): ServerOptions {
  // Omitted rather than 0: grpc-js would retire every connection at once.
  if (settings.maxAgeMs === undefined) return {};
  return {
    "grpc.max_connection_age_ms": settings.maxAgeMs,
    "grpc.max_connection_age_grace_ms": settings.maxAgeGraceMs,
  };
}
