/**
 * The one error vocabulary of the core. Each transport maps `code` to its own status in
 * one place (src/api/*); messages are safe to show callers (no secrets, no numbers).
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION"
  | "RESOURCE_EXHAUSTED"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "UNAVAILABLE"
  | "CANCELED"
  | "INTERNAL";

/**
 * Machine-readable detail of a refusal, sent as google.rpc.ErrorInfo (and RetryInfo when
 * `retryAfterMs` is set) so clients branch on `reason`, never on the message text.
 */
export interface ErrorDetail {
  /** Stable, UPPER_SNAKE_CASE (the table in docs/callers.md). */
  readonly reason: string;
  /** Safe to show the caller: never a number, key or code. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** When a retry can succeed, from now. */
  readonly retryAfterMs?: number;
}

/** ErrorInfo.domain of every detail we send. */
export const ERROR_DOMAIN = "voicecode.v1";

export interface VoiceCodeErrorOptions {
  /** The request field at fault, for INVALID_ARGUMENT. */
  readonly field?: string;
  readonly detail?: ErrorDetail;
  readonly cause?: unknown;
}

export class VoiceCodeError extends Error {
  override readonly name = "VoiceCodeError";
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly detail: ErrorDetail | undefined;

  constructor(code: ErrorCode, message: string, options: VoiceCodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.detail = options.detail;
  }
}

/** The one answer to a missing, malformed, unknown or revoked key: nothing about which. */
export function unauthenticated(): VoiceCodeError {
  return new VoiceCodeError("UNAUTHENTICATED", "a valid API key is required");
}

/** INVALID_ARGUMENT naming the field first, so every caller sees which input was wrong. */
export function invalidArgument(field: string, problem: string): VoiceCodeError {
  return new VoiceCodeError("INVALID_ARGUMENT", `${field}: ${problem}`, { field });
}

export function notFound(field: string, problem: string): VoiceCodeError {
  return new VoiceCodeError("NOT_FOUND", `${field}: ${problem}`, { field });
}

/** Anything that is not a VoiceCodeError becomes INTERNAL with a fixed message. */
export function toVoiceCodeError(err: unknown): VoiceCodeError {
  if (err instanceof VoiceCodeError) return err;
  return new VoiceCodeError("INTERNAL", "internal error", { cause: err });
}
