/**
 * The one mapping from the core's error vocabulary to each transport's status codes.
 * Anything that is not a VoiceCodeError is INTERNAL "internal error": the caller never
 * sees the message or stack of an unexpected failure.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, VoiceCodeError, toVoiceCodeError } from "../core/errors.js";

const grpcCodes: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
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
  UNAVAILABLE: Code.Unavailable,
  CANCELED: Code.Canceled,
  INTERNAL: Code.Internal,
};

export interface GrpcErrorStatus {
  readonly code: GrpcStatus;
  readonly details: string;
}

/** VoiceCodeError messages are written to be shown to callers; INVALID_ARGUMENT's names the field. */
export function toGrpcStatus(err: unknown): GrpcErrorStatus {
  const e = toVoiceCodeError(err);
  return { code: grpcCodes[e.code], details: e.message };
}

export function toConnectError(err: unknown): ConnectError {
  const e = toVoiceCodeError(err);
  return new ConnectError(e.message, connectCodes[e.code]);
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
