/**
 * The PostgreSQL store, for more than one replica: the same Store contract and rules as
 * the SQLite engine, with every cross-replica guarantee enforced by the database (unique
 * constraints for dedupe and idempotency, the event-order lock for commit-ordered
 * sequences, NOTIFY for fan-out).
 */
import type pg from "pg";
import { CallState, FailureReason, type EventRecord } from "../../core/model.js";
import { advances } from "../../core/states.js";
import type {
  Applied,
  CreateCallResult,
  EventFilter,
  NewCall,
  SendResult,
  SendResultOptions,
  Store,
} from "../store.js";
import { adoptParked, appendEvent, loadRoute, mustLoadCall, startNextAttempt } from "./apply.js";
import type { Keyring } from "../../secrets/keyring.js";
import { sameFingerprint } from "../fingerprints.js";
import { ingest } from "./ingest.js";
import { keyLegacyFingerprints } from "./legacy-fingerprints.js";
import * as lifecycle from "./lifecycle.js";
import { applyMigrations, MIGRATIONS } from "./migrations.js";
import { type PoolOptions, createPool } from "./pool.js";
import * as q from "./queries.js";
import { storable, toAttemptRecord, toCallRecord, toEventRecord } from "./rows.js";
import { type TransactionOptions, inTransaction } from "./transaction.js";

export interface PostgresStoreOptions extends PoolOptions, TransactionOptions {
  /** Keys the request fingerprints of rows written before fingerprints were keyed. */
  readonly keyring: Keyring;
}

export interface PostgresStore extends Store {
  /** The store's pool, for callers that share its connections (tests, diagnostics). */
  readonly pool: pg.Pool;
}

async function createCall(db: q.Db, keyring: Keyring, call: NewCall): Promise<CreateCallResult> {
  const inserted = await q.insertCall(db, {
    ...call,
    route: call.route,
    sealedRequest: call.sealedRequest ?? null,
    state: CallState.PENDING,
  });
  if (inserted !== undefined) {
    await q.insertAttempt(db, call.callId, 1, call.provider, call.nowMs);
    return { created: true, call: toCallRecord(inserted) };
  }
  // Only the idempotency index is a DO NOTHING target, so the key's owner has committed.
  const existing = await q.callByIdempotencyKey(db, call.idempotencyKey);
  if (existing === undefined) throw new Error("postgres store: idempotency conflict without owner");
  return {
    created: false,
    call: toCallRecord(existing),
    sameRequest: sameFingerprint(keyring, existing.request_hash, call.requestHash),
  };
}

async function recordSendResult(
  db: q.Db,
  callId: string,
  result: SendResult,
  nowMs: number,
  options: SendResultOptions = {},
): Promise<Applied> {
  const call = await mustLoadCall(db, callId);
  if (options.attempt !== undefined && options.attempt !== call.attempt) {
    throw new Error(`postgres store: answer for attempt ${options.attempt} of ${callId}, which is on ${call.attempt}`);
  }
  const events: EventRecord[] = [];
  await q.setAttemptAnswer(db, {
    callId,
    attempt: call.attempt,
    outcome: result.kind,
    providerCallId: result.kind === "accepted" ? result.providerCallId : "",
    failureReason: result.kind === "rejected" ? result.reason : FailureReason.UNSPECIFIED,
    providerCode: result.providerCode,
    providerText: result.providerText,
    endedAtMs: nowMs,
  });
  const done = async (): Promise<Applied> => {
    return { call: await mustLoadCall(db, callId), events };
  };
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
      events.push(await appendEvent(db, call, fields, nowMs, options.next !== undefined));
      if (options.next !== undefined) await startNextAttempt(db, call, options.next, nowMs);
    }
    return done();
  }
  if (result.providerCallId !== "" && result.providerCallId !== call.providerCallId) {
    const holder = await q.callByProviderCallId(db, call.provider, result.providerCallId);
    if (holder !== undefined && holder.call_id !== callId) {
      throw new Error(
        `postgres store: provider ${call.provider} returned call id ${result.providerCallId} ` +
          `for ${callId}, but it already belongs to ${holder.call_id}`,
      );
    }
    // The Send answer is authoritative over an id a push may have claimed first.
    await q.setProviderCallId(db, callId, result.providerCallId, nowMs);
  }
  const current = await mustLoadCall(db, callId);
  if (advances(current.state, CallState.ACCEPTED)) {
    const fields = {
      state: CallState.ACCEPTED,
      failureReason: FailureReason.UNSPECIFIED,
      providerCallId: result.providerCallId,
      providerCode: result.providerCode,
      providerText: result.providerText,
      occurredAtMs: undefined,
    };
    events.push(await appendEvent(db, current, fields, nowMs));
  }
  events.push(...(await adoptParked(db, callId, nowMs, () => undefined)));
  return done();
}

async function startFallback(
  db: q.Db,
  callId: string,
  attempt: number,
  provider: string | undefined,
  nowMs: number,
): Promise<{ claimed: boolean; applied: Applied | undefined }> {
  if (!(await q.claimFallback(db, callId, attempt))) return { claimed: false, applied: undefined };
  const call = await mustLoadCall(db, callId);
  if (call.attempt !== attempt - 1 || !call.continues) {
    throw new Error(`postgres store: fallback ${attempt} of ${callId} does not follow its attempt ${call.attempt}`);
  }
  if (provider !== undefined) {
    await startNextAttempt(db, call, provider, nowMs);
    return { claimed: true, applied: { call: await mustLoadCall(db, callId), events: [] } };
  }
  // Nobody can carry another attempt: the failure that asked for one is final after all.
  const event = await appendEvent(
    db,
    call,
    {
      state: CallState.FAILED,
      failureReason: call.failureReason,
      providerCallId: "",
      providerCode: "",
      providerText: "no provider left on the route for another attempt",
      occurredAtMs: undefined,
    },
    nowMs,
  );
  return { claimed: true, applied: { call: await mustLoadCall(db, callId), events: [event] } };
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
  let closing: Promise<void> | undefined;
  return {
    pool,
    createCall(call) {
      return inTransaction(pool, hooks, { method: "createCall" }, (db) => createCall(db, options.keyring, call));
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
      return inTransaction(pool, hooks, spec, (db) => recordSendResult(db, callId, result, nowMs, attemptOptions));
    },
    async recordAmbiguous(callId, attempt, detail) {
      await inTransaction(pool, hooks, { method: "recordAmbiguous" }, (db) =>
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
    async dueFallbacks(limit) {
      const rows = await q.dueFallbacks(pool, Math.max(0, Math.floor(limit)));
      return rows.map((r) => ({ callId: r.call_id, attempt: r.attempt }));
    },
    async loadFallbackRequest(callId) {
      const route = await loadRoute(pool, callId);
      const sealed = (await q.callRoute(pool, callId))?.sealed_request;
      return route === undefined || sealed == null ? undefined : { route, sealedRequest: sealed };
    },
    startFallback(callId, attempt, provider, nowMs) {
      const spec = {
        method: "startFallback",
        appended: (r: { applied: Applied | undefined }) => r.applied?.events ?? [],
      };
      return inTransaction(pool, hooks, spec, (db) => startFallback(db, callId, attempt, provider, nowMs));
    },
    ingest(provider, events, nowMs) {
      const spec = { method: "ingest", appended: (r: { appended: readonly EventRecord[] }) => r.appended };
      return inTransaction(pool, hooks, spec, (db) => ingest(db, provider, events, nowMs));
    },
    async getCall(callId) {
      const row = await q.callById(pool, callId);
      return row === undefined ? undefined : toCallRecord(row);
    },
    async listEvents(filter: EventFilter, afterSequence, limit) {
      if (limit <= 0) return [];
      const [column, value] =
        "callId" in filter
          ? (["call_id", filter.callId] as const)
          : (["client_reference", filter.clientReference] as const);
      const rows = await q.eventsAfter(pool, column, value, afterSequence, Math.floor(limit));
      return rows.map(toEventRecord);
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
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
