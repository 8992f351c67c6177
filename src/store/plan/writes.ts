/**
 * What a planned change writes. The planner (ingest-plan.ts) decides; each engine only
 * loads what the planner needs, executes these writes in the order listed here and
 * commits. Events go first, because inbound rows reference the sequences they get.
 */
import type { AttemptRecord, CallDetails, CallRecord, EventRecord, FailureReason } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import type { CallRoute } from "../../core/attempts.js";

export type Disposition = "applied" | "stale" | "parked";

/** One attempt of a loaded call: what the echo and provider-id rules look at. */
export interface AttemptRef {
  readonly attempt: number;
  readonly provider: string;
  readonly providerCallId: string;
}

/** A call as the planner needs it: the row, its route and every attempt so far. */
export interface LoadedCall {
  readonly call: CallRecord;
  readonly route: CallRoute | undefined;
  /** Oldest first. */
  readonly attempts: readonly AttemptRef[];
}

/** A push kept parked by an earlier change, now a candidate for adoption. */
export interface ParkedPush {
  readonly provider: string;
  readonly push: InboundEvent;
}

/**
 * One event row to insert: an EventRecord before the engine assigns its sequence, with
 * the provider's details as one optional group (a Check's verification events are written
 * elsewhere, src/store/verifications.ts).
 */
export type EventWrite = Omit<EventRecord, "sequence" | "verification" | keyof CallDetails> & {
  /** Key press, duration, answer and end times, when the push reported them. */
  readonly details?: CallDetails | undefined;
};

/** An inbound row's final disposition; `eventIndex` names the event in `Writes.events`. */
export interface InboundWrite {
  readonly provider: string;
  readonly push: InboundEvent;
  readonly disposition: Disposition;
  readonly callId: string | null;
  readonly eventIndex: number | undefined;
  /** Received in this change (no row yet on SQLite); false: a parked row adopted now. */
  readonly received: boolean;
}

export interface AttemptAnswerWrite {
  readonly callId: string;
  readonly attempt: number;
  readonly outcome: AttemptRecord["outcome"];
  /** Empty: keep the attempt's provider call id. */
  readonly providerCallId: string;
  readonly failureReason: FailureReason;
  readonly providerCode: string;
  readonly providerText: string;
  readonly endedAtMs: number | null;
}

export interface Writes {
  readonly events: readonly EventWrite[];
  /**
   * The final row of every call the change moved, once each: one UPDATE per call
   * whatever the number of events (state, reason, provider call id, attempt, provider).
   * The engine clears the sealed request when the final state is terminal and the call
   * does not continue.
   */
  readonly calls: readonly CallRecord[];
  /** Attempts started (after a refusal failed over). */
  readonly newAttempts: ReadonlyArray<{ readonly callId: string; readonly attempt: number; readonly provider: string }>;
  /** A Send answer recorded on its attempt. */
  readonly attemptAnswers: readonly AttemptAnswerWrite[];
  /** A provider call id a push revealed, set on the attempt that had none. */
  readonly attemptProviderCallIds: ReadonlyArray<{
    readonly callId: string;
    readonly attempt: number;
    readonly providerCallId: string;
  }>;
  /** Outcome fallbacks decided (insert, first decision wins). */
  readonly fallbacks: ReadonlyArray<{ readonly callId: string; readonly attempt: number }>;
  /** Every push this change received or settled, in arrival order. */
  readonly inbound: readonly InboundWrite[];
}
