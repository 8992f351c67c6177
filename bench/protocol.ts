/**
 * What bench/run.ts (the parent) and bench/targets.ts (one server per child process)
 * say to each other over the fork IPC channel.
 */

export type TargetName = "A" | "B" | "C" | "D" | "P" | "R";

/** Environment variable carrying target P's database URL to its child process. */
export const TARGET_DATABASE_URL = "VOICECODE_BENCH_TARGET_DATABASE_URL";

/** Every response the child's HTTP/2 server streams sent, as seen on the wire. */
export interface Tally {
  /** By `:status` of the response headers. */
  readonly httpStatus: Record<string, number>;
  /** By `grpc-status`, wherever it was sent: trailers, or headers of a trailers-only response. */
  readonly grpcStatus: Record<string, number>;
  /**
   * CPU time the child process used since the previous tally (user + system, all its
   * threads), in microseconds: per response, a cost that other jobs on a shared machine
   * disturb far less than they disturb req/s.
   */
  readonly cpuMicros: number;
}

export type ToChild = { readonly type: "tally" } | { readonly type: "stop" };

export type FromChild =
  | {
      readonly type: "ready";
      /** The port serving gRPC (A: the bare http2 server). */
      readonly grpcPort: number;
      /** D and P: the API port (Connect protocol, h2c). */
      readonly apiPort?: number;
      /** D and P: an existing call, for GetCall. */
      readonly callId?: string;
    }
  /** Answers `tally`, and starts a new one. */
  | { readonly type: "tally"; readonly tally: Tally }
  | { readonly type: "stopped" };
