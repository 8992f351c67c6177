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
  | "UNAVAILABLE"
  | "CANCELED"
  | "INTERNAL";

export interface VoiceCodeErrorOptions {
  /** The request field at fault, for INVALID_ARGUMENT. */
  readonly field?: string;
  readonly cause?: unknown;
}

export class VoiceCodeError extends Error {
  override readonly name = "VoiceCodeError";
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: VoiceCodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
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
