/**
 * The domain records the core, the stores and the transports share. States and
 * failure reasons are the proto's enums: the proto is the one normalized status model.
 */
import { CallState, FailureReason, VerificationState } from "../../gen/voicecode/v1/voicecode_pb.js";

export { CallState, FailureReason, VerificationState };

/**
 * What a call says. "verification": a code (Send); "notification": a template message
 * (Notify); "ivr": a template message that collects a key press (Notify with
 * collect_key_press). Stored as this text; rows from before kinds existed are
 * "verification".
 */
export type CallKind = "verification" | "notification" | "ivr";

export const CALL_KINDS: readonly CallKind[] = ["verification", "notification", "ivr"];

/** A stored kind text, read defensively: anything unknown is a verification call. */
export function toCallKind(text: string): CallKind {
  return (CALL_KINDS as readonly string[]).includes(text) ? (text as CallKind) : "verification";
}

/**
 * What a provider reports about a finished call beyond its state, kept on the event
 * that carries it (usually the terminal one). Every field is optional: most providers
 * and most events have none of them.
 */
export interface CallDetails {
  /** The key the callee pressed (IVR), as reported; absent when none. */
  readonly pressedKey?: string | undefined;
  /** Connected time in whole seconds. */
  readonly durationSeconds?: number | undefined;
  /** When the callee answered, epoch ms, by the provider's clock. */
  readonly answeredAtMs?: number | undefined;
  /** When the call ended, epoch ms, by the provider's clock. */
  readonly endedAtMs?: number | undefined;
}

/**
 * One call as stored. The full phone number, the code and a notification's template
 * parameters are never kept.
 */
export interface CallRecord {
  readonly callId: string;
  readonly kind: CallKind;
  /** A notification's logical template name; "" for a verification call. */
  readonly templateName: string;
  /** The caller that sent it; only that tenant may read or watch it. */
  readonly tenant: string;
  readonly provider: string;
  /** Empty until the provider has returned its id. */
  readonly providerCallId: string;
  readonly phoneMasked: string;
  readonly playTimes: number;
  readonly clientReference: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly state: CallState;
  readonly failureReason: FailureReason;
  /** FAILED with a reason a later, precise provider push may still replace. */
  readonly reasonProvisional: boolean;
  /** The current attempt (1 for the first provider asked); provider fields are its. */
  readonly attempt: number;
  /** FAILED, and a next attempt has been decided: not terminal. */
  readonly continues: boolean;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** One applied state change of a call; `sequence` increases store-wide in commit order. */
export interface EventRecord extends CallDetails {
  readonly sequence: number;
  readonly callId: string;
  /** The call's tenant (copied so reference watches filter in SQL). */
  readonly tenant: string;
  readonly clientReference: string;
  readonly state: CallState;
  readonly failureReason: FailureReason;
  readonly provider: string;
  readonly providerCallId: string;
  readonly providerCode: string;
  readonly providerText: string;
  /** The provider's own timestamp, when it sends one. */
  readonly occurredAtMs: number | undefined;
  readonly recordedAtMs: number;
  /** A FAILED event whose reason a later event for the same call may refine. */
  readonly provisional: boolean;
  /** The attempt the event belongs to. */
  readonly attempt: number;
  /** A FAILED event after which another attempt follows: not terminal. */
  readonly continues: boolean;
  /**
   * Set on an event a Check recorded (src/verify/): it repeats the call's state and does
   * not move the call. Absent or UNSPECIFIED on every lifecycle event.
   */
  readonly verification?: VerificationState;
}

/** One provider request made for a call. */
export interface AttemptRecord {
  readonly callId: string;
  readonly attempt: number;
  readonly provider: string;
  readonly providerCallId: string;
  /** pending: no answer recorded yet. */
  readonly outcome: "pending" | "accepted" | "rejected" | "ambiguous";
  /** Why the provider refused (outcome rejected). */
  readonly failureReason: FailureReason;
  readonly providerCode: string;
  readonly providerText: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number | undefined;
}
