/**
 * The storage contract. SQLite (embedded default, one replica) and PostgreSQL (several
 * replicas) implement it, so every method is async and every multi-step change is one
 * transaction inside the store.
 */
import type { CallRoute } from "../core/attempts.js";
import type { AttemptRecord, CallKind, CallRecord, EventRecord } from "../core/model.js";
import type { InboundEvent, SendOutcome } from "../core/provider.js";
import type { CheckVerificationRequest, CheckVerificationResult, NewVerification } from "./verifications.js";

export interface NewCall {
  readonly callId: string;
  /** What the call says. Default "verification". */
  readonly kind?: CallKind;
  /** A notification's logical template name (never its parameters). Default "". */
  readonly templateName?: string;
  /** The first attempt's provider. */
  readonly provider: string;
  /** Kept when routing may place another attempt later (outcome fallback). */
  readonly route?: CallRoute | undefined;
  /**
   * The request, sealed (keyring "fallback-request"), kept only while an outcome
   * fallback may still need to re-send it; cleared when the call ends.
   */
  readonly sealedRequest?: string | undefined;
  readonly phoneMasked: string;
  readonly playTimes: number;
  readonly clientReference: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Empty string: no idempotency. */
  readonly idempotencyKey: string;
  /** Fingerprint of the request, to tell a true retry from a reused key. */
  readonly requestHash: string;
  readonly nowMs: number;
  /**
   * The tenant that sent it (default "default"). Idempotency keys are scoped to it: two
   * tenants using the same key get two calls.
   */
  readonly tenant?: string;
  /**
   * Counted in the same transaction that records the call: when one would be exceeded,
   * createCall throws LimitExceeded and records nothing. An idempotent replay is not
   * counted again (and is answered even at the limit).
   */
  readonly limits?: readonly LimitRule[];
  /**
   * Stored with the call, in the same transaction, when the Send asked for Check; it
   * supersedes the tenant's older verifications with the same non-empty client_reference.
   * Not stored on an idempotent replay.
   */
  readonly verification?: NewVerification;
}

/**
 * At most `max` counted Sends under `key` in any window of `windowMs` ending now. Rules
 * sharing a key share one count: one row per key per Send, however many windows.
 */
export interface LimitRule {
  /** "n:<keyed number hash>" or "t:<tenant>": never a number in clear. */
  readonly key: string;
  readonly max: number;
  readonly windowMs: number;
  /** ErrorInfo reason when this rule refuses (e.g. NUMBER_HOURLY_LIMIT). */
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Thrown by createCall when a rule would be exceeded; nothing was recorded. */
export class LimitExceeded extends Error {
  override readonly name = "LimitExceeded";
  constructor(
    readonly rule: LimitRule,
    /** When the oldest counted Send leaves the window, so one more fits. */
    readonly retryAfterMs: number,
  ) {
    super(`limit ${rule.reason} reached`);
  }
}

/**
 * A limit's refusal carried out of a group item as a value, then thrown after the commit:
 * createCall refuses before writing anything, and both engines' group writers take a throw
 * as a failure to undo (SQLite runs the group again item by item, PostgreSQL splits it).
 * `refusal` in the item's catch, `unlessRefused` on its result.
 */
export function refusal(err: unknown): LimitExceeded {
  if (err instanceof LimitExceeded) return err;
  throw err;
}

export function unlessRefused<T>(result: T | LimitExceeded): T {
  if (result instanceof LimitExceeded) throw result;
  return result;
}

/**
 * A Send counted at `at` is in the window of `rule` while `at > now - windowMs`. With
 * `count` >= max in the window, the (count - max + 1) oldest must leave before one more
 * fits: stores pass the time of the last of those (ascending offset count - max).
 */
export function limitOffset(rule: LimitRule, count: number): number {
  return Math.max(0, count - rule.max);
}

export function retryAfter(rule: LimitRule, leavingAtMs: number, nowMs: number): number {
  return Math.max(1, leavingAtMs + rule.windowMs - nowMs);
}

/** Distinct keys in a fixed (sorted) order, so concurrent lockers can never deadlock. */
export function limitKeys(rules: readonly LimitRule[]): string[] {
  return [...new Set(rules.map((r) => r.key))].sort();
}

/** Count rows older than the longest window of `rules` are of no use; pruned in batches. */
export function pruneBefore(rules: readonly LimitRule[], nowMs: number): number | undefined {
  if (rules.length === 0) return undefined;
  return nowMs - Math.max(...rules.map((r) => r.windowMs));
}

export type CreateCallResult =
  | { readonly created: true; readonly call: CallRecord }
  | { readonly created: false; readonly call: CallRecord; readonly sameRequest: boolean };

/** A provider's definite answer to Send; an ambiguous one changes nothing to record. */
export type SendResult = Exclude<SendOutcome, { readonly kind: "ambiguous" }>;

export interface Applied {
  readonly call: CallRecord;
  /** Events appended by this change, in sequence order (may be empty). */
  readonly events: readonly EventRecord[];
  /**
   * The call's attempts as this change left them, oldest first, when the engine has them
   * without another store call (a Send's answer, unless a failover follows); undefined:
   * ask listAttempts.
   */
  readonly attempts?: readonly AttemptRecord[] | undefined;
}

export interface IngestResult {
  /** Events appended to calls, in sequence order. */
  readonly appended: readonly EventRecord[];
  /** Pushes seen before (same provider + dedupe key): ignored. */
  readonly duplicates: number;
  /** Pushes that would move a call backward: kept for audit, not applied. */
  readonly stale: number;
  /** Pushes for calls we do not know (yet): parked until the call's id is known. */
  readonly parked: number;
}

export interface SendResultOptions {
  readonly attempt?: number;
  readonly next?: string;
}

export interface StartFallbackOptions {
  /**
   * Counted in the claim's transaction, like a Send's: LimitExceeded rolls the claim back
   * (the decision stays) and records nothing.
   */
  readonly limits?: readonly LimitRule[];
  /** Provider text of the final event when no provider is given. */
  readonly endText?: string;
}

/** A next attempt that routing decided (outcome fallback) and nobody has placed yet. */
export interface DueFallback {
  readonly callId: string;
  /** The attempt number to place. */
  readonly attempt: number;
}

/** What a fallback attempt needs to re-send the call. */
export interface FallbackRequest {
  readonly route: CallRoute;
  readonly sealedRequest: string;
}

/** Ends calls no provider report ended (see Store.expireCalls). */
export interface ExpireRequest {
  /** Calls created before this instant that are still not terminal expire. */
  readonly createdBeforeMs: number;
  readonly nowMs: number;
  /** The expiry event's raw text: why the call was ended by us, not by its provider. */
  readonly providerText: string;
  /** At most this many calls per call of the method. */
  readonly limit: number;
}

/** Which old rows one retention batch deletes (see Store.prune). */
export interface PruneRequest {
  /** Terminal calls last changed before this instant go, with their events and pushes. */
  readonly callsBeforeMs: number;
  /** Parked pushes (for calls never known) received before this instant go. */
  readonly parkedBeforeMs: number;
  /** At most this many calls, and this many parked pushes, per batch. */
  readonly limit: number;
}

export interface PruneResult {
  readonly calls: number;
  readonly events: number;
  /** Pushes deleted with their calls (applied or stale). */
  readonly pushes: number;
  readonly parked: number;
  /** Another replica is pruning right now (PostgreSQL); nothing was deleted. */
  readonly busy: boolean;
}

/**
 * By call id (the core checks the call's tenant first), or by client reference within one
 * tenant. A reference filter without a tenant matches every tenant's calls: internal use
 * only, never for a caller.
 */
export type EventFilter =
  | { readonly callId: string }
  | { readonly clientReference: string; readonly tenant?: string };

export interface Store {
  /** Creates a call in PENDING, or returns the existing call for a used idempotency key. */
  createCall(call: NewCall): Promise<CreateCallResult>;
  /**
   * Records the provider's answer to Send for the call's current attempt: accepted sets
   * the provider call id, appends ACCEPTED and then applies any parked pushes for that
   * call; rejected appends FAILED. With `next`, the refusal is failed over: the FAILED
   * event continues, and the next attempt starts on provider `next`, PENDING, in the same
   * transaction (durable before that provider is asked). `attempt`, when given, must be
   * the current one (a guard against answering for a superseded attempt).
   */
  recordSendResult(callId: string, result: SendResult, nowMs: number, options?: SendResultOptions): Promise<Applied>;
  /** The provider's answer to the attempt was lost: the call stays as it is; the attempt says why. */
  recordAmbiguous(callId: string, attempt: number, detail: string, nowMs: number): Promise<void>;
  /** Every attempt of the call, oldest first. */
  listAttempts(callId: string): Promise<AttemptRecord[]>;
  /** Next attempts decided by an outcome fallback at or before `decidedByMs` and not yet placed, oldest first. */
  dueFallbacks(limit: number, decidedByMs: number): Promise<DueFallback[]>;
  /** The route and sealed request of a call that may still fall back. */
  loadFallbackRequest(callId: string): Promise<FallbackRequest | undefined>;
  /**
   * Claims a due fallback exactly once (across replicas). With a provider, starts the
   * attempt on it (PENDING, durable before it is asked) and returns claimed true; with
   * none (no provider available), ends the call with its last failure, terminal.
   * claimed false: another process claimed it first, nothing changed.
   */
  startFallback(
    callId: string,
    attempt: number,
    provider: string | undefined,
    nowMs: number,
    options?: StartFallbackOptions,
  ): Promise<{ readonly claimed: boolean; readonly applied: Applied | undefined }>;
  /**
   * Moves a decided fallback's due time (it is due once `dueAtMs` is at or before the
   * dispatcher's `decidedByMs`): a per-number limit holds it until the number may ring again.
   */
  postponeFallback(callId: string, attempt: number, dueAtMs: number): Promise<void>;
  /**
   * Stores a batch of pushes atomically: dedupes on (provider, dedupeKey), applies the
   * ones that advance their call, keeps stale ones for audit and parks unknown ones.
   */
  ingest(provider: string, events: readonly InboundEvent[], nowMs: number): Promise<IngestResult>;
  getCall(callId: string): Promise<CallRecord | undefined>;
  /** Events matching `filter` with sequence > afterSequence, ascending, at most `limit`. */
  listEvents(filter: EventFilter, afterSequence: number, limit: number): Promise<EventRecord[]>;
  /**
   * Records the deadline expiry of at most `limit` calls created before
   * `createdBeforeMs` that are still not terminal: each gets a FAILED event with reason
   * UNKNOWN, marked provisional, so a late provider report still replaces it. Claimed
   * by a conditional update, so across replicas each expiry is recorded exactly once.
   * Returns the appended events (publish them on the bus).
   */
  expireCalls(request: ExpireRequest): Promise<readonly EventRecord[]>;
  /**
   * Calls of `provider` that are not terminal, by call id ascending, after `afterCallId`
   * ("" for the first page): what a provider that resumes its work at start still owes.
   */
  listOpenCalls(provider: string, afterCallId: string, limit: number): Promise<CallRecord[]>;
  /**
   * Deletes one batch of old rows: terminal calls with their events and pushes, and
   * parked pushes for calls never known. Never touches a call that is not terminal.
   */
  prune(request: PruneRequest): Promise<PruneResult>;
  /**
   * One Check, in one transaction: finds the verification, claims one attempt with a
   * conditional update (so concurrent Checks, on any replica, never spend more than the
   * budget), compares through `matches`, settles the row and appends the verification
   * event, which does not move the call (see src/store/verifications.ts).
   */
  checkVerification(request: CheckVerificationRequest): Promise<CheckVerificationResult>;
  close(): Promise<void>;
}
