/**
 * The embedded store. better-sqlite3 is synchronous. Every write method is one item of
 * the process's group writer (group-commit.ts): items submitted together share one
 * IMMEDIATE transaction and one disk sync (an item that throws is undone alone), and each method's
 * promise settles after the commit that holds its item. Reads run at once, outside any
 * transaction, and see only committed rows.
 */
import { CallState, FailureReason, type EventRecord } from "../../core/model.js";
import {
  type Applied,
  type CreateCallResult,
  type EventFilter,
  type FallbackRequest,
  LimitExceeded,
  type LimitRule,
  type NewCall,
  type SendResult,
  type SendResultOptions,
  type StartFallbackOptions,
  type Store,
  limitKeys,
  limitOffset,
  pruneBefore,
  refusal,
  retryAfter,
  unlessRefused,
} from "../store.js";
import { echoFor } from "../../core/attempts.js";
import { planFallbackStart, planSendResult } from "../plan/ingest-plan.js";
import type { ParkedPush } from "../plan/writes.js";
import { executeWrites, mustLoadCall, toParked } from "./plan-io.js";
import type { Keyring } from "../../secrets/keyring.js";
import { sameFingerprint } from "../fingerprints.js";
import { openDatabase, type SqliteDatabaseOptions } from "./database.js";
import { createGroupWriter, type GroupCommitOptions } from "./group-commit.js";
import { ingest } from "./ingest.js";
import { keyLegacyFingerprints } from "./legacy-fingerprints.js";
import { expireCalls, listOpenCalls, prepareLifecycleStatements, prune } from "./lifecycle.js";
import { toAttemptRecord } from "../attempt-rows.js";
import { type CallRow, toCallRecord, toEventRecord } from "./rows.js";
import type { CallRoute } from "../../core/attempts.js";
import { DEFAULT_TENANT } from "../../core/caller.js";
import { prepareStatements, type Statements } from "./statements.js";
import {
  checkVerification,
  insertVerification,
  prepareVerificationStatements,
  type VerificationStatements,
} from "./verifications.js";

export interface SqliteStoreOptions extends SqliteDatabaseOptions {
  /** Keys the request fingerprints of rows written before fingerprints were keyed. */
  readonly keyring: Keyring;
  /** How concurrent writes share one commit (group-commit.ts). */
  readonly groupCommit?: GroupCommitOptions;
}

/**
 * One item of a group transaction: a replay is answered first (and not counted), then every
 * limit is checked and, only if all pass, the call and its counts are written. SQLite
 * runs one writer at a time, so the count cannot change between check and insert.
 */
function createCall(
  st: Statements,
  vs: VerificationStatements,
  keyring: Keyring,
  call: NewCall,
): CreateCallResult {
  const tenant = call.tenant ?? DEFAULT_TENANT;
  if (call.idempotencyKey !== "") {
    const existing = st.callByIdempotencyKey.get(tenant, call.idempotencyKey);
    if (existing !== undefined) return replay(keyring, existing, call);
  }
  const rules = call.limits ?? [];
  enforceLimits(st, rules, call.nowMs);
  const inserted = st.insertCall.get({
    call_id: call.callId,
    kind: call.kind ?? "verification",
    template_name: call.templateName ?? "",
    tenant,
    provider: call.provider,
    phone_masked: call.phoneMasked,
    play_times: call.playTimes,
    client_reference: call.clientReference,
    idempotency_key: call.idempotencyKey,
    request_hash: call.requestHash,
    metadata: JSON.stringify(call.metadata),
    state: CallState.PENDING,
    route: call.route === undefined ? null : JSON.stringify(call.route),
    sealed_request: call.sealedRequest ?? null,
    now_ms: call.nowMs,
  });
  if (inserted !== undefined) {
    st.insertAttempt.run(call.callId, 1, call.provider, call.nowMs);
    logLimits(st, rules, call.nowMs);
    const created = toCallRecord(inserted);
    // Verification hook (src/store/sqlite/verifications.ts): stored, and older codes of
    // the same reference superseded, in the transaction that records the call.
    if (call.verification !== undefined) insertVerification(vs, created, call.verification);
    return { created: true, call: created };
  }
  // Only the idempotency index is a DO NOTHING target, so the key's owner exists.
  const existing = st.callByIdempotencyKey.get(tenant, call.idempotencyKey);
  if (existing === undefined) throw new Error("sqlite store: idempotency conflict without owner");
  return replay(keyring, existing, call);
}

function replay(keyring: Keyring, existing: CallRow, call: NewCall): CreateCallResult {
  return {
    created: false,
    call: toCallRecord(existing),
    sameRequest: sameFingerprint(keyring, existing.request_hash, call.requestHash),
  };
}

function recordSendResult(
  st: Statements,
  callId: string,
  result: SendResult,
  nowMs: number,
  options: SendResultOptions = {},
): Applied {
  const loaded = mustLoadCall(st, callId);
  const { call } = loaded;
  let holder: string | undefined;
  let parked: ParkedPush[] = [];
  if (result.kind === "accepted") {
    const id = result.providerCallId || call.providerCallId;
    if (result.providerCallId !== "" && result.providerCallId !== call.providerCallId) {
      holder = st.callByProviderCallId.get(call.provider, result.providerCallId)?.call_id;
    }
    // One call's pushes: the single-call statement, with no JSON lists to build and unpack.
    parked = toParked(
      st.parkedFor.all({ provider: call.provider, provider_call_id: id, call_id: echoFor(call.callId, call.attempt) }),
    );
  }
  const writes = planSendResult({ call: loaded, result, options, holder, parked, nowMs });
  const events = executeWrites(st, writes, nowMs);
  // The Send's response lists them: read here, in the item, instead of in a store call of
  // its own after the commit. Not when a failover follows (the next answer's count).
  const attempts = options.next === undefined ? st.attemptsByCall.all(callId).map(toAttemptRecord) : undefined;
  return { call: writes.calls.find((c) => c.callId === callId) ?? call, events, attempts };
}

function recordAmbiguous(st: Statements, callId: string, attempt: number, detail: string): void {
  st.setAttemptAnswer.run({
    call_id: callId,
    attempt,
    outcome: "ambiguous",
    provider_call_id: "",
    failure_reason: FailureReason.UNSPECIFIED,
    provider_code: "",
    provider_text: detail,
    ended_at_ms: null,
  });
}

function loadFallbackRequest(st: Statements, callId: string): FallbackRequest | undefined {
  const row = st.callRoute.get(callId);
  if (row?.route == null || row.sealed_request == null) return undefined;
  return { route: JSON.parse(row.route) as CallRoute, sealedRequest: row.sealed_request };
}

/** Throws LimitExceeded, writing nothing, when a rule would be exceeded at `nowMs`. */
function enforceLimits(st: Statements, rules: readonly LimitRule[], nowMs: number): void {
  for (const rule of rules) {
    const since = nowMs - rule.windowMs;
    const count = st.countSends.get(rule.key, since)?.n ?? 0;
    if (count >= rule.max) {
      const leaving = st.nthSend.get(rule.key, since, limitOffset(rule, count))?.at_ms ?? nowMs;
      throw new LimitExceeded(rule, retryAfter(rule, leaving, nowMs));
    }
  }
}

/** Counts one call under each rule's key, and drops counts older than every window. */
function logLimits(st: Statements, rules: readonly LimitRule[], nowMs: number): void {
  for (const key of limitKeys(rules)) st.logSend.run(key, nowMs);
  const before = pruneBefore(rules, nowMs);
  if (before !== undefined) st.pruneSends.run(before);
}

function startFallback(
  st: Statements,
  callId: string,
  attempt: number,
  provider: string | undefined,
  nowMs: number,
  options: StartFallbackOptions = {},
): { claimed: boolean; applied: Applied | undefined } {
  if (st.claimFallback.run(callId, attempt).changes === 0) return { claimed: false, applied: undefined };
  const loaded = mustLoadCall(st, callId);
  if (provider !== undefined) {
    // Rings the phone again: counted like a Send. LimitExceeded comes after the claim's
    // write, so it stays a throw: the group writer undoes this item, claim included, and
    // the decision stays for later.
    const rules = options.limits ?? [];
    enforceLimits(st, rules, nowMs);
    logLimits(st, rules, nowMs);
  }
  const writes = planFallbackStart(loaded, attempt, provider, nowMs, options.endText);
  const events = executeWrites(st, writes, nowMs);
  return { claimed: true, applied: { call: writes.calls[0] ?? loaded.call, events } };
}

function listEvents(
  st: Statements,
  filter: EventFilter,
  afterSequence: number,
  limit: number,
): EventRecord[] {
  // SQLite reads a negative LIMIT as "no limit".
  if (limit <= 0) return [];
  const n = Math.floor(limit);
  const rows =
    "callId" in filter
      ? st.eventsByCall.all(filter.callId, afterSequence, n)
      : filter.tenant === undefined
        ? st.eventsByClientReference.all(filter.clientReference, afterSequence, n)
        : st.eventsByTenantReference.all(filter.tenant, filter.clientReference, afterSequence, n);
  return rows.map(toEventRecord);
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options);
  let st: Statements;
  let ls: ReturnType<typeof prepareLifecycleStatements>;
  let vs: VerificationStatements;
  try {
    keyLegacyFingerprints(db, options.keyring);
    st = prepareStatements(db);
    ls = prepareLifecycleStatements(db);
    vs = prepareVerificationStatements(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const writer = createGroupWriter(db, options.groupCommit);
  return {
    async createCall(call) {
      const result = await writer.submit(() => {
        try {
          return createCall(st, vs, options.keyring, call);
        } catch (err) {
          return refusal(err);
        }
      });
      return unlessRefused(result);
    },
    async recordSendResult(callId, result, nowMs, answer) {
      return writer.submit(() => recordSendResult(st, callId, result, nowMs, answer));
    },
    async recordAmbiguous(callId, attempt, detail) {
      await writer.submit(() => recordAmbiguous(st, callId, attempt, detail));
    },
    async listAttempts(callId) {
      return st.attemptsByCall.all(callId).map(toAttemptRecord);
    },
    async dueFallbacks(limit, decidedByMs) {
      return st.dueFallbacks
        .all(decidedByMs, Math.max(0, Math.floor(limit)))
        .map((r) => ({ callId: r.call_id, attempt: r.attempt }));
    },
    async loadFallbackRequest(callId) {
      return loadFallbackRequest(st, callId);
    },
    async startFallback(callId, attempt, provider, nowMs, options) {
      return writer.submit(() => startFallback(st, callId, attempt, provider, nowMs, options));
    },
    async postponeFallback(callId, attempt, dueAtMs) {
      await writer.submit(() => {
        st.postponeFallback.run(dueAtMs, callId, attempt);
      });
    },
    async ingest(provider, events, nowMs) {
      return writer.submit(() => ingest(st, provider, events, nowMs));
    },
    async getCall(callId) {
      const row = st.callById.get(callId);
      return row === undefined ? undefined : toCallRecord(row);
    },
    async listEvents(filter, afterSequence, limit) {
      return listEvents(st, filter, afterSequence, limit);
    },
    async expireCalls(request) {
      return writer.submit(() => expireCalls(st, ls, request));
    },
    async listOpenCalls(provider, afterCallId, limit) {
      return listOpenCalls(ls, provider, afterCallId, limit);
    },
    async prune(request) {
      return writer.submit(() => prune(ls, request));
    },
    async checkVerification(request) {
      return writer.submit(() => checkVerification(st, vs, options.keyring, request));
    },
    async close() {
      if (!db.open) return;
      writer.drain();
      db.close();
    },
  };
}
