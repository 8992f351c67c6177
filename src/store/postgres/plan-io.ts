/**
 * The PostgreSQL side of the planner (src/store/plan): loads what a plan needs, the calls
 * row-locked, and executes the writes it returns. No rule lives here. Runs inside the
 * caller's transaction. As before, each call's row lock is taken before the first event of
 * the call is inserted, which keeps one call's sequences in commit order (visibility.ts).
 */
import type { CallRoute } from "../../core/attempts.js";
import type { EventRecord } from "../../core/model.js";
import type { AttemptRef, LoadedCall, ParkedPush, Writes } from "../plan/writes.js";
import * as q from "./queries.js";
import { detailColumns, toCallRecord, toEventRecord, toInboundEvent } from "./rows.js";
import { type TimedWrites, fitsOneStatement, mergeWrites, writePlans } from "./write-plan.js";

type AttemptKey = Awaited<ReturnType<typeof q.attemptsOf>>[number];

/** The rows, each with its attempts (oldest first); `loaded`: the attempts, already read. */
export async function withAttempts(
  db: q.Db,
  rows: readonly q.RoutedCallRow[],
  loaded?: readonly AttemptKey[],
): Promise<LoadedCall[]> {
  const attempts = new Map<string, AttemptRef[]>();
  const all = loaded === undefined ? await q.attemptsOf(db, rows.map((r) => r.call_id)) : [...loaded].sort(byAttempt);
  for (const a of all) {
    const list = attempts.get(a.call_id) ?? [];
    list.push({ attempt: a.attempt, provider: a.provider, providerCallId: a.provider_call_id });
    attempts.set(a.call_id, list);
  }
  return rows.map((row) => ({
    call: toCallRecord(row),
    route: row.route == null ? undefined : (row.route as CallRoute),
    attempts: attempts.get(row.call_id) ?? [],
  }));
}

function byAttempt(x: AttemptKey, y: AttemptKey): number {
  return x.call_id === y.call_id ? x.attempt - y.attempt : x.call_id < y.call_id ? -1 : 1;
}

export async function lockCallsFor(
  db: q.Db,
  provider: string,
  callIds: readonly string[],
  providerCallIds: readonly string[],
): Promise<LoadedCall[]> {
  if (callIds.length === 0 && providerCallIds.length === 0) return [];
  return withAttempts(db, await q.lockCallsFor(db, provider, callIds, providerCallIds));
}

export async function mustLockCall(db: q.Db, callId: string): Promise<LoadedCall> {
  const row = await q.lockRoutedCall(db, callId);
  if (row === undefined) throw new Error(`postgres store: unknown call ${callId}`);
  const [loaded] = await withAttempts(db, [row]);
  if (loaded === undefined) throw new Error(`postgres store: unknown call ${callId}`);
  return loaded;
}

export async function loadParked(
  db: q.Db,
  provider: string,
  providerCallIds: readonly string[],
  echoes: readonly string[],
): Promise<ParkedPush[]> {
  if (providerCallIds.length === 0 && echoes.length === 0) return [];
  const rows = await q.parkedForBatch(db, provider, providerCallIds, echoes);
  return rows.map((row) => ({ provider: row.provider, push: toInboundEvent(row) }));
}

/**
 * Executes a plan's writes; returns the appended events in sequence order. Every inbound
 * row the plan settles already exists (inserted parked before planning), so its
 * disposition is an UPDATE. One statement for the plans that fit it (write-plan.ts).
 */
export async function executeWrites(db: q.Db, writes: Writes, nowMs: number): Promise<EventRecord[]> {
  return executeAll(db, [{ writes, nowMs }]);
}

/**
 * Executes several plans' writes in order (plans of a batch, each with its own time):
 * in one statement when together they write no row twice, else plan by plan.
 */
export async function executeAll(db: q.Db, parts: readonly TimedWrites[]): Promise<EventRecord[]> {
  const merged = mergeWrites(parts.map((p) => p.writes));
  if (fitsOneStatement(merged)) return (await writePlans(db, parts, merged)).map(toEventRecord);
  const events: EventRecord[] = [];
  for (const part of parts) {
    events.push(
      ...(fitsOneStatement(part.writes)
        ? (await writePlans(db, [part], part.writes)).map(toEventRecord)
        : await executeStepwise(db, part.writes, part.nowMs)),
    );
  }
  return events;
}

/** Statement by statement, in the order writes.ts lists: for plans that write a row twice. */
async function executeStepwise(db: q.Db, writes: Writes, nowMs: number): Promise<EventRecord[]> {
  const events: EventRecord[] = [];
  for (const e of writes.events) {
    const row = await q.insertEvent(db, {
      call_id: e.callId,
      tenant: e.tenant,
      client_reference: e.clientReference,
      state: e.state,
      failure_reason: e.failureReason,
      provider: e.provider,
      provider_call_id: e.providerCallId,
      provider_code: e.providerCode,
      provider_text: e.providerText,
      occurred_at_ms: e.occurredAtMs ?? null,
      recorded_at_ms: e.recordedAtMs,
      provisional: e.provisional,
      attempt: e.attempt,
      continues: e.continues,
      ...detailColumns(e.details),
    });
    events.push(toEventRecord(row));
  }
  for (const call of writes.calls) {
    await q.writeCall(db, {
      callId: call.callId,
      state: call.state,
      failureReason: call.failureReason,
      reasonProvisional: call.reasonProvisional,
      continues: call.continues,
      providerCallId: call.providerCallId,
      attempt: call.attempt,
      provider: call.provider,
      nowMs: call.updatedAtMs,
    });
  }
  for (const a of writes.newAttempts) await q.insertAttempt(db, a.callId, a.attempt, a.provider, nowMs);
  for (const a of writes.attemptAnswers) await q.setAttemptAnswer(db, a);
  for (const a of writes.attemptProviderCallIds) {
    await q.setAttemptProviderCallId(db, a.callId, a.attempt, a.providerCallId);
  }
  for (const f of writes.fallbacks) await q.insertFallback(db, f.callId, f.attempt, nowMs);
  await q.setDispositions(
    db,
    writes.inbound
      .filter((w) => !(w.received && w.disposition === "parked"))
      .map((w) => ({
        provider: w.provider,
        dedupeKey: w.push.dedupeKey,
        disposition: w.disposition,
        callId: w.callId,
        appliedSequence: w.eventIndex === undefined ? null : (events[w.eventIndex]?.sequence ?? null),
      })),
  );
  return events;
}
