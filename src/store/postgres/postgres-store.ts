/**
 * The PostgreSQL store, for more than one replica: the same Store contract and rules as
 * the SQLite engine, with every cross-replica guarantee enforced by the database (unique
 * constraints for dedupe and idempotency, row and provider-call-id locks for writers of
 * one call, a snapshot horizon for reading sequences in commit order (visibility.ts),
 * NOTIFY for fan-out). Writes go through the process's group writer (group-commit.ts):
 * concurrent ones share a transaction, and Sends' and webhooks' writes of one kind run as
 * batches (send-batch.ts, ingest-batch.ts). Lifecycle sweeps keep transactions of their own.
 */
import type pg from "pg";
import { CallState, FailureReason, type EventRecord } from "../../core/model.js";
import { DEFAULT_TENANT } from "../../core/caller.js";
import {
  type Applied,
  type CreateCallResult,
  type EventFilter,
  LimitExceeded,
  type LimitRule,
  type NewCall,
  type SendResult,
  type StartFallbackOptions,
  type Store,
  limitKeys,
  limitOffset,
  pruneBefore,
  refusal,
  retryAfter,
  unlessRefused,
} from "../store.js";
import type { CallRoute, } from "../../core/attempts.js";
import { planFallbackStart, } from "../plan/ingest-plan.js";
import { executeWrites, mustLockCall } from "./plan-io.js";
import type { Keyring } from "../../secrets/keyring.js";
import { sameFingerprint } from "../fingerprints.js";
import { ingest } from "./ingest.js";
import { type IngestRequest, ingestMany } from "./ingest-batch.js";
import { keyLegacyFingerprints } from "./legacy-fingerprints.js";
import * as lifecycle from "./lifecycle.js";
import { applyMigrations, MIGRATIONS } from "./migrations.js";
import { type PoolOptions, createPool } from "./pool.js";
import * as q from "./queries.js";
import { readEvents } from "./read-events.js";
import { toAttemptRecord } from "../attempt-rows.js";
import { type CallRow, storable, toCallRecord } from "./rows.js";
import { batchOf, type TransactionOptions } from "./transaction.js";
import { answersBatchable, insertPlainCalls, isPlainCall, recordSendResults, type SendAnswer } from "./send-batch.js";
import { createGroupWriter, type GroupCommitOptions } from "./group-commit.js";
import { checkVerification, insertVerification } from "./verifications.js";

export interface PostgresStoreOptions extends PoolOptions, TransactionOptions {
  /** Keys the request fingerprints of rows written before fingerprints were keyed. */
  readonly keyring: Keyring;
  /**
   * How long a client-reference read waits for events that just committed to fall below
   * the event horizon before returning without them (read-events.ts). Default 1 000 ms.
   */
  readonly horizonWaitMs?: number;
  /**
   * Test-only: false hands out client-reference events without the horizon of
   * visibility.ts, to show the test that depends on it fails without it. Never in
   * production: watchers would lose events.
   */
  readonly eventHorizon?: boolean;
  /** How concurrent writes share one transaction (group-commit.ts). */
  readonly groupCommit?: GroupCommitOptions;
}

export interface PostgresStore extends Store {
  /** The store's pool, for callers that share its connections (tests, diagnostics). */
  readonly pool: pg.Pool;
}

/**
 * Limits are exact across replicas: each limit key's advisory lock is taken first, in
 * sorted order (no deadlock between two Sends sharing keys), and held to commit; under
 * READ COMMITTED every later statement sees the counts the previous holder committed.
 * A replay is answered before counting (not counted again, answered even at the limit).
 */
async function createCall(db: q.Db, keyring: Keyring, call: NewCall): Promise<CreateCallResult> {
  const tenant = call.tenant ?? DEFAULT_TENANT;
  const rules = call.limits ?? [];
  const keys = limitKeys(rules);
  for (const key of keys) await q.lockLimitKey(db, key);
  if (call.idempotencyKey !== "") {
    const existing = await q.callByIdempotencyKey(db, tenant, call.idempotencyKey);
    if (existing !== undefined) return replay(keyring, existing, call);
  }
  await enforceLimits(db, rules, call.nowMs);
  const inserted = await q.insertCall(db, {
    ...call,
    tenant,
    route: call.route,
    sealedRequest: call.sealedRequest ?? null,
    state: CallState.PENDING,
  });
  if (inserted !== undefined) {
    await q.insertAttempt(db, call.callId, 1, call.provider, call.nowMs);
    await logLimits(db, rules, call.nowMs);
    const created = toCallRecord(inserted);
    // Verification hook (src/store/postgres/verifications.ts): stored, and older codes of
    // the same reference superseded, in the transaction that records the call.
    if (call.verification !== undefined) await insertVerification(db, created, call.verification);
    return { created: true, call: created };
  }
  // Only the idempotency index is a DO NOTHING target, so the key's owner has committed.
  const existing = await q.callByIdempotencyKey(db, tenant, call.idempotencyKey);
  if (existing === undefined) throw new Error("postgres store: idempotency conflict without owner");
  return replay(keyring, existing, call);
}

function replay(keyring: Keyring, existing: CallRow, call: NewCall): CreateCallResult {
  return {
    created: false,
    call: toCallRecord(existing),
    sameRequest: sameFingerprint(keyring, existing.request_hash, call.requestHash),
  };
}

function created(row: CallRow): CreateCallResult {
  return { created: true, call: toCallRecord(row) };
}

/** Several answers in one pass when they share no call or new provider id; else one by one. */
async function recordAnswers(db: q.Db, answers: readonly SendAnswer[]): Promise<Applied[]> {
  if (answersBatchable(answers)) return recordSendResults(db, answers);
  const applied: Applied[] = [];
  for (const answer of answers) applied.push(...(await recordSendResults(db, [answer])));
  return applied;
}

/** Throws LimitExceeded, writing nothing, when a rule would be exceeded at `nowMs` (keys locked by the caller). */
async function enforceLimits(db: q.Db, rules: readonly LimitRule[], nowMs: number): Promise<void> {
  for (const rule of rules) {
    const since = nowMs - rule.windowMs;
    const count = await q.countSends(db, rule.key, since);
    if (count >= rule.max) {
      const leaving = (await q.nthSend(db, rule.key, since, limitOffset(rule, count))) ?? nowMs;
      throw new LimitExceeded(rule, retryAfter(rule, leaving, nowMs));
    }
  }
}

/** Counts one call under each rule's key, and drops counts older than every window. */
async function logLimits(db: q.Db, rules: readonly LimitRule[], nowMs: number): Promise<void> {
  for (const key of limitKeys(rules)) await q.logSend(db, key, nowMs);
  const before = pruneBefore(rules, nowMs);
  if (before !== undefined) await q.pruneSends(db, before);
}

async function startFallback(
  db: q.Db,
  callId: string,
  attempt: number,
  provider: string | undefined,
  nowMs: number,
  options: StartFallbackOptions = {},
): Promise<{ claimed: boolean; applied: Applied | undefined }> {
  const rules = provider === undefined ? [] : (options.limits ?? []);
  // Limit keys first, as createCall takes them: one lock order for every transaction.
  for (const key of limitKeys(rules)) await q.lockLimitKey(db, key);
  if (!(await q.claimFallback(db, callId, attempt))) return { claimed: false, applied: undefined };
  const loaded = await mustLockCall(db, callId);
  if (provider !== undefined) {
    // Rings the phone again: counted like a Send (LimitExceeded rolls the claim back).
    await enforceLimits(db, rules, nowMs);
    await logLimits(db, rules, nowMs);
  }
  const writes = planFallbackStart(loaded, attempt, provider, nowMs, options.endText);
  const events = await executeWrites(db, writes, nowMs);
  return { claimed: true, applied: { call: writes.calls[0] ?? loaded.call, events } };
}

/**
 * Opens the pool, migrates and re-keys legacy request fingerprints (both under the
 * migration lock) before returning.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const pool = createPool(options);
  try {
    await applyMigrations(pool, MIGRATIONS, (client) => keyLegacyFingerprints(client, options.keyring));
  } catch (err) {
    await pool.end();
    throw err;
  }
  const hooks: TransactionOptions = options;
  const writer = createGroupWriter(pool, hooks, options.groupCommit);
  let closing: Promise<void> | undefined;
  return {
    pool,
    createCall(call) {
      if (!isPlainCall(call)) {
        // A limit's refusal leaves the group as a value (see refusal in store.ts).
        return writer
          .submit({ method: "createCall" }, (db) => createCall(db, options.keyring, call).catch(refusal))
          .then(unlessRefused);
      }
      return writer.submit(
        { method: "createCall" },
        async (db) => (await insertPlainCalls(db, [call])).map(created)[0] as CreateCallResult,
        batchOf("plain-call", call, async (db, calls: readonly NewCall[]) => (await insertPlainCalls(db, calls)).map(created)),
      );
    },
    recordSendResult(callId, answer, nowMs, attemptOptions) {
      const spec = { method: "recordSendResult", appended: (r: Applied) => r.events };
      // The provider's answer may carry U+0000 too (see storable).
      const result: SendResult =
        answer.kind === "accepted"
          ? {
              ...answer,
              providerCallId: storable(answer.providerCallId),
              providerCode: storable(answer.providerCode),
              providerText: storable(answer.providerText),
            }
          : { ...answer, providerCode: storable(answer.providerCode), providerText: storable(answer.providerText) };
      const item: SendAnswer = { callId, result, nowMs, options: attemptOptions ?? {} };
      return writer.submit(
        spec,
        async (db) => (await recordSendResults(db, [item]))[0] as Applied,
        batchOf("send-answer", item, recordAnswers),
      );
    },
    async recordAmbiguous(callId, attempt, detail) {
      await writer.submit({ method: "recordAmbiguous" }, (db) =>
        q.setAttemptAnswer(db, {
          callId,
          attempt,
          outcome: "ambiguous",
          providerCallId: "",
          failureReason: FailureReason.UNSPECIFIED,
          providerCode: "",
          providerText: storable(detail),
          endedAtMs: null,
        }),
      );
    },
    async listAttempts(callId) {
      return (await q.attemptsByCall(pool, callId)).map(toAttemptRecord);
    },
    async dueFallbacks(limit, decidedByMs) {
      const rows = await q.dueFallbacks(pool, Math.max(0, Math.floor(limit)), decidedByMs);
      return rows.map((r) => ({ callId: r.call_id, attempt: r.attempt }));
    },
    async loadFallbackRequest(callId) {
      const row = await q.callRoute(pool, callId);
      if (row?.route == null || row.sealed_request == null) return undefined;
      return { route: row.route as CallRoute, sealedRequest: row.sealed_request };
    },
    async postponeFallback(callId, attempt, dueAtMs) {
      await q.postponeFallback(pool, callId, attempt, dueAtMs);
    },
    startFallback(callId, attempt, provider, nowMs, fallbackOptions) {
      const spec = {
        method: "startFallback",
        appended: (r: { applied: Applied | undefined }) => r.applied?.events ?? [],
      };
      return writer.submit(spec, (db) => startFallback(db, callId, attempt, provider, nowMs, fallbackOptions));
    },
    ingest(provider, events, nowMs) {
      const spec = { method: "ingest", appended: (r: { appended: readonly EventRecord[] }) => r.appended };
      const request: IngestRequest = { provider, pushes: events, nowMs };
      return writer.submit(
        spec,
        (db) => ingest(db, provider, events, nowMs),
        batchOf(`ingest:${provider}`, request, ingestMany),
      );
    },
    async getCall(callId) {
      const row = await q.callById(pool, callId);
      return row === undefined ? undefined : toCallRecord(row);
    },
    listEvents(filter: EventFilter, afterSequence, limit) {
      return readEvents(pool, filter, afterSequence, limit, {
        waitMs: options.horizonWaitMs,
        horizon: options.eventHorizon,
      });
    },
    expireCalls(request) {
      return lifecycle.expireCalls(pool, hooks, request);
    },
    listOpenCalls(provider, afterCallId, limit) {
      return lifecycle.listOpenCalls(pool, provider, afterCallId, limit);
    },
    prune(request) {
      return lifecycle.prune(pool, hooks, request);
    },
    checkVerification(request) {
      // An event-appending transaction: NOTIFY wakes the watchers of every replica.
      const spec = {
        method: "checkVerification",
        appended: (r: { event: EventRecord | undefined }) => (r.event === undefined ? [] : [r.event]),
      };
      return writer.submit(spec, (db) => checkVerification(db, options.keyring, request));
    },
    close() {
      closing ??= writer.idle().then(() => pool.end());
      return closing;
    },
  };
}
