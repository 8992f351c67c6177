/**
 * The embedded store. better-sqlite3 is synchronous; the methods are async only because
 * the PostgreSQL engine implements the same interface. Each public method is one
 * IMMEDIATE transaction, so concurrent writers queue on the lock instead of failing
 * with SQLITE_BUSY when a read transaction tries to upgrade.
 */
import { CallState, FailureReason, type EventRecord } from "../../core/model.js";
import { advances } from "../../core/states.js";
import {
  type Applied,
  type CreateCallResult,
  type EventFilter,
  LimitExceeded,
  type NewCall,
  type SendResult,
  type Store,
  limitKeys,
  limitOffset,
  pruneBefore,
  retryAfter,
} from "../store.js";
import { adoptParked, appendEvent, loadCall, mustLoadCall } from "./apply.js";
import type { Keyring } from "../../secrets/keyring.js";
import { sameFingerprint } from "../fingerprints.js";
import { openDatabase, type SqliteDatabaseOptions } from "./database.js";
import { ingest } from "./ingest.js";
import { keyLegacyFingerprints } from "./legacy-fingerprints.js";
import { expireCalls, listOpenCalls, prepareLifecycleStatements, prune } from "./lifecycle.js";
import { type CallRow, toCallRecord, toEventRecord } from "./rows.js";
import { DEFAULT_TENANT } from "../../core/caller.js";
import { prepareStatements, type Statements } from "./statements.js";

export interface SqliteStoreOptions extends SqliteDatabaseOptions {
  /** Keys the request fingerprints of rows written before fingerprints were keyed. */
  readonly keyring: Keyring;
}

/**
 * One IMMEDIATE transaction: a replay is answered first (and not counted), then every
 * limit is checked and, only if all pass, the call and its counts are written. SQLite
 * runs one writer at a time, so the count cannot change between check and insert.
 */
function createCall(st: Statements, keyring: Keyring, call: NewCall): CreateCallResult {
  const tenant = call.tenant ?? DEFAULT_TENANT;
  if (call.idempotencyKey !== "") {
    const existing = st.callByIdempotencyKey.get(tenant, call.idempotencyKey);
    if (existing !== undefined) return replay(keyring, existing, call);
  }
  const rules = call.limits ?? [];
  for (const rule of rules) {
    const since = call.nowMs - rule.windowMs;
    const count = st.countSends.get(rule.key, since)?.n ?? 0;
    if (count >= rule.max) {
      const leaving = st.nthSend.get(rule.key, since, limitOffset(rule, count))?.at_ms ?? call.nowMs;
      throw new LimitExceeded(rule, retryAfter(rule, leaving, call.nowMs));
    }
  }
  const inserted = st.insertCall.run({
    call_id: call.callId,
    tenant,
    provider: call.provider,
    phone_masked: call.phoneMasked,
    play_times: call.playTimes,
    client_reference: call.clientReference,
    idempotency_key: call.idempotencyKey,
    request_hash: call.requestHash,
    metadata: JSON.stringify(call.metadata),
    state: CallState.PENDING,
    now_ms: call.nowMs,
  });
  if (inserted.changes === 1) {
    for (const key of limitKeys(rules)) st.logSend.run(key, call.nowMs);
    const before = pruneBefore(rules, call.nowMs);
    if (before !== undefined) st.pruneSends.run(before);
    return { created: true, call: mustLoadCall(st, call.callId) };
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
): Applied {
  const call = mustLoadCall(st, callId);
  const events: EventRecord[] = [];
  if (result.kind === "rejected") {
    if (advances(call.state, CallState.FAILED)) {
      const fields = {
        state: CallState.FAILED,
        failureReason: result.reason,
        providerCallId: "",
        providerCode: result.providerCode,
        providerText: result.providerText,
        occurredAtMs: undefined,
      };
      events.push(appendEvent(st, call, fields, nowMs));
    }
    return { call: mustLoadCall(st, callId), events };
  }
  if (result.providerCallId !== "" && result.providerCallId !== call.providerCallId) {
    const holder = st.callByProviderCallId.get(call.provider, result.providerCallId);
    if (holder !== undefined && holder.call_id !== callId) {
      throw new Error(
        `sqlite store: provider ${call.provider} returned call id ${result.providerCallId} ` +
          `for ${callId}, but it already belongs to ${holder.call_id}`,
      );
    }
    // The Send answer is authoritative over an id a push may have claimed first.
    st.setProviderCallId.run(result.providerCallId, nowMs, callId);
  }
  const current = mustLoadCall(st, callId);
  if (advances(current.state, CallState.ACCEPTED)) {
    events.push(
      appendEvent(
        st,
        current,
        {
          state: CallState.ACCEPTED,
          failureReason: FailureReason.UNSPECIFIED,
          providerCallId: result.providerCallId,
          providerCode: result.providerCode,
          providerText: result.providerText,
          occurredAtMs: undefined,
        },
        nowMs,
      ),
    );
  }
  events.push(...adoptParked(st, callId, nowMs, () => undefined));
  return { call: mustLoadCall(st, callId), events };
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
  try {
    keyLegacyFingerprints(db, options.keyring);
    st = prepareStatements(db);
    ls = prepareLifecycleStatements(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const tx = {
    createCall: db.transaction(createCall),
    recordSendResult: db.transaction(recordSendResult),
    ingest: db.transaction(ingest),
    expireCalls: db.transaction(expireCalls),
    prune: db.transaction(prune),
  };
  return {
    async createCall(call) {
      return tx.createCall.immediate(st, options.keyring, call);
    },
    async recordSendResult(callId, result, nowMs) {
      return tx.recordSendResult.immediate(st, callId, result, nowMs);
    },
    async ingest(provider, events, nowMs) {
      return tx.ingest.immediate(st, provider, events, nowMs);
    },
    async getCall(callId) {
      return loadCall(st, callId);
    },
    async listEvents(filter, afterSequence, limit) {
      return listEvents(st, filter, afterSequence, limit);
    },
    async expireCalls(request) {
      return tx.expireCalls.immediate(st, ls, request);
    },
    async listOpenCalls(provider, afterCallId, limit) {
      return listOpenCalls(ls, provider, afterCallId, limit);
    },
    async prune(request) {
      return tx.prune.immediate(ls, request);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
