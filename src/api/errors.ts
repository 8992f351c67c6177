/**
 * The one mapping from the core's error vocabulary to each transport's status codes.
 * Anything that is not a VoiceCodeError is INTERNAL "internal error": the caller never
 * sees the message or stack of an unexpected failure.
 */
import { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import {
  ERROR_DOMAIN,
  type ErrorCode,
  type ErrorDetail,
  VoiceCodeError,
  toVoiceCodeError,
} from "../core/errors.js";

const grpcCodes: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  CANCELED: GrpcStatus.CANCELLED,
  INTERNAL: GrpcStatus.INTERNAL,
};

const connectCodes: Record<ErrorCode, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  PERMISSION_DENIED: Code.PermissionDenied,
  UNAUTHENTICATED: Code.Unauthenticated,
  UNAVAILABLE: Code.Unavailable,
  CANCELED: Code.Canceled,
  INTERNAL: Code.Internal,
};

export interface GrpcErrorStatus {
  readonly code: GrpcStatus;
  readonly details: string;
  /** Trailers: grpc-status-details-bin when the error has a detail. */
  readonly metadata?: Metadata;
}

/** The standard detail messages: ErrorInfo, then RetryInfo when a retry time is known. */
function detailMessages(detail: ErrorDetail) {
  const info = {
    desc: ErrorInfoSchema,
    value: create(ErrorInfoSchema, {
      reason: detail.reason,
      domain: ERROR_DOMAIN,
      metadata: { ...detail.metadata },
    }),
  };
  if (detail.retryAfterMs === undefined) return [info] as const;
  const retry = {
    desc: RetryInfoSchema,
    value: create(RetryInfoSchema, { retryDelay: durationFromMs(detail.retryAfterMs) }),
  };
  return [info, retry] as const;
}

/**
 * VoiceCodeError messages are written to be shown to callers; INVALID_ARGUMENT's names the
 * field. A detail travels as a binary google.rpc.Status in grpc-status-details-bin, where
 * grpcio (grpc_status), grpc-js clients and connect's gRPC transport all look for it.
 */
export function toGrpcStatus(err: unknown): GrpcErrorStatus {
  const e = toVoiceCodeError(err);
  const code = grpcCodes[e.code];
  if (e.detail === undefined) return { code, details: e.message };
  const status = create(StatusSchema, {
    code,
    message: e.message,
    details: detailMessages(e.detail).map((d) => anyPack(d.desc, d.value)),
  });
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  return { code, details: e.message, metadata };
}

export function toConnectError(err: unknown): ConnectError {
  const e = toVoiceCodeError(err);
  const details = e.detail === undefined ? [] : [...detailMessages(e.detail)];
  return new ConnectError(e.message, connectCodes[e.code], undefined, details);
}

/** True for failures worth a server-side error log: the caller only sees "internal error". */
export function isUnexpected(err: unknown): boolean {
  return toVoiceCodeError(err).code === "INTERNAL";
}

/** For server logs only, never for callers. */
export function describeForLog(err: unknown): string {
  const cause = err instanceof VoiceCodeError && err.cause !== undefined ? err.cause : err;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
