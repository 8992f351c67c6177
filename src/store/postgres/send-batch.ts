/**
 * The two writes of a Send, for many Sends in one round trip each (group-commit.ts runs
 * consecutive items of one kind as a batch). A Send is a PENDING call (createCall) and
 * then the provider's answer (recordSendResult); one at a time they took two and about a
 * dozen statements, so a group of Sends spent its time in round trips. Batched, N new
 * calls are one statement, and N answers are four: the provider-call-id locks, the row
 * locks, what the planner needs, and the writes. The rules stay the planner's and the
 * single paths' (postgres-store.ts); these only load and write several at once, taking
 * locks in the orders the single paths use (queries.ts), so they deadlock with nothing
 * the single paths would not.
 */
import { echoFor } from "../../core/attempts.js";
import { CallState } from "../../core/model.js";
import { DEFAULT_TENANT } from "../../core/caller.js";
import { planSendResult } from "../plan/ingest-plan.js";
import type { ParkedPush, Writes } from "../plan/writes.js";
import type { Applied, NewCall, SendResult, SendResultOptions } from "../store.js";
import { PROVIDER_CALL_LOCK_NAMESPACE } from "./constants.js";
import { executeAll, withAttempts } from "./plan-io.js";
import { attemptsAfter } from "./write-plan.js";
import { type AttemptRow, toAttemptRecord } from "../attempt-rows.js";
import * as q from "./queries.js";
import type { CallRow, InboundRow } from "./rows.js";
import { toInboundEvent } from "./rows.js";

/** A Send's call that needs none of createCall's reads: no idempotency key, limit or verification. */
export function isPlainCall(call: NewCall): boolean {
  return call.idempotencyKey === "" && (call.limits ?? []).length === 0 && call.verification === undefined;
}

/** Inserts plain calls (isPlainCall) with their first attempts, in one statement. */
export async function insertPlainCalls(db: q.Db, calls: readonly NewCall[]): Promise<CallRow[]> {
  const col = <T>(f: (c: NewCall) => T): T[] => calls.map(f);
  const { rows } = await db.query<CallRow>({
    ...INSERT_PLAIN_CALLS,
    values: [
      col((c) => c.callId),
      col((c) => c.provider),
      col((c) => c.phoneMasked),
      col((c) => c.playTimes),
      col((c) => c.clientReference),
      col((c) => c.requestHash),
      col((c) => JSON.stringify(c.metadata)),
      col((c) => (c.route === undefined ? null : JSON.stringify(c.route))),
      col((c) => c.sealedRequest ?? null),
      col((c) => c.nowMs),
      col((c) => c.tenant ?? DEFAULT_TENANT),
      col((c) => c.kind ?? "verification"),
      col((c) => c.templateName ?? ""),
    ],
  });
  const byId = new Map(rows.map((r) => [r.call_id, r]));
  return calls.map((c) => {
    const row = byId.get(c.callId);
    if (row === undefined) throw new Error(`postgres store: call ${c.callId} not inserted`);
    return row;
  });
}

export interface SendAnswer {
  readonly callId: string;
  readonly result: SendResult;
  readonly nowMs: number;
  readonly options: SendResultOptions;
}

/** Whether answers can share one plan's loads: each call and each new provider id once. */
export function answersBatchable(answers: readonly SendAnswer[]): boolean {
  const ids = answers.map((a) => a.callId);
  const pcs = answers.flatMap((a) => (a.result.kind === "accepted" && a.result.providerCallId !== "" ? [a.result.providerCallId] : []));
  return new Set(ids).size === ids.length && new Set(pcs).size === pcs.length;
}

interface ContextRow {
  kind: "a" | "h" | "p";
  row: Record<string, unknown>;
}

/**
 * Records several answers (answersBatchable) as recordSendResult would one by one, in
 * four statements; returns each one's Applied, in order.
 */
export async function recordSendResults(db: q.Db, answers: readonly SendAnswer[]): Promise<Applied[]> {
  const accepted = answers.flatMap((a) =>
    a.result.kind === "accepted" && a.result.providerCallId !== "" ? [{ callId: a.callId, pc: a.result.providerCallId }] : [],
  );
  if (accepted.length > 0) {
    // The order of insertInboundBatch's locks (sorted ids), before any row lock; the provider is
    // the call's, read unlocked as the single path does. The inner ORDER BY fixes the
    // order in which the outer query takes the locks.
    accepted.sort((x, y) => (x.pc < y.pc ? -1 : x.pc > y.pc ? 1 : 0));
    await db.query({
      ...ANSWER_LOCKS,
      values: [PROVIDER_CALL_LOCK_NAMESPACE, accepted.map((a) => a.callId), accepted.map((a) => a.pc)],
    });
  }
  // Row locks in call id order, as ingest takes them (queries.ts lockCallsFor).
  const { rows: locked } = await db.query<q.RoutedCallRow>({
    ...ANSWER_ROWS,
    values: [answers.map((a) => a.callId)],
  });
  const byId = new Map(locked.map((r) => [r.call_id, r]));
  // Who holds each new provider id, and what is parked under it or the attempt's echo.
  const holderKeys: Array<{ provider: string; pc: string }> = [];
  const parkedKeys: Array<{ provider: string; pc: string; echo: string }> = [];
  for (const a of answers) {
    const row = byId.get(a.callId);
    if (row === undefined) throw new Error(`postgres store: unknown call ${a.callId}`);
    if (a.result.kind !== "accepted") continue;
    const pc = a.result.providerCallId;
    if (pc !== "" && pc !== row.provider_call_id) holderKeys.push({ provider: row.provider, pc });
    parkedKeys.push({ provider: row.provider, pc: pc || row.provider_call_id, echo: echoFor(row.call_id, row.attempt) });
  }
  const { rows: context } = await db.query<ContextRow>({
    ...ANSWER_CONTEXT,
    values: [
      answers.map((a) => a.callId),
      holderKeys.map((k) => k.provider),
      holderKeys.map((k) => k.pc),
      parkedKeys.map((k) => k.provider),
      parkedKeys.map((k) => k.pc),
      parkedKeys.map((k) => k.echo),
    ],
  });
  // Whole rows: with the plan's writes they are the call's attempts after this answer
  // (attemptsAfter), which the Send's response lists, without reading them back.
  const attempts = context.filter((c) => c.kind === "a").map((c) => c.row as unknown as AttemptRow);
  const holders = context.filter((c) => c.kind === "h").map((c) => c.row as { call_id: string; provider: string; provider_call_id: string });
  const parked = context
    .filter((c) => c.kind === "p")
    .map((c) => c.row as unknown as InboundRow)
    .sort((x, y) => x.received_seq - y.received_seq);

  const loaded = await withAttempts(db, locked, attempts);
  const loadedById = new Map(loaded.map((l) => [l.call.callId, l]));
  const plans: Writes[] = [];
  for (const a of answers) {
    const call = loadedById.get(a.callId);
    if (call === undefined) throw new Error(`postgres store: unknown call ${a.callId}`);
    let holder: string | undefined;
    let mine: ParkedPush[] = [];
    if (a.result.kind === "accepted") {
      const pc = a.result.providerCallId;
      const { provider, providerCallId } = call.call;
      if (pc !== "" && pc !== providerCallId) {
        holder = holders.find((h) => h.provider === provider && h.provider_call_id === pc)?.call_id;
      }
      const id = pc || providerCallId;
      const echo = echoFor(call.call.callId, call.call.attempt);
      mine = parked
        .filter((p) => p.provider === provider && ((id !== "" && p.provider_call_id === id) || p.call_id_hint === echo))
        .map((row) => ({ provider: row.provider, push: toInboundEvent(row) }));
    }
    plans.push(planSendResult({ call, result: a.result, options: a.options, holder, parked: mine, nowMs: a.nowMs }));
  }
  // One statement for the whole batch; each answer's attempts and fallbacks carry its own time.
  const events = await executeAll(
    db,
    plans.map((writes, i) => ({ writes, nowMs: answers[i]?.nowMs ?? 0 })),
  );
  let offset = 0;
  return plans.map((plan, i) => {
    const callId = answers[i]?.callId ?? "";
    const mineEvents = events.slice(offset, offset + plan.events.length);
    offset += plan.events.length;
    const call = plan.calls.find((c) => c.callId === callId) ?? loadedById.get(callId)?.call;
    if (call === undefined) throw new Error(`postgres store: unknown call ${callId}`);
    const after = attemptsAfter(attempts, plan, answers[i]?.nowMs ?? 0, callId).map(toAttemptRecord);
    return { call, events: mineEvents, attempts: after };
  });
}

export const INSERT_PLAIN_CALLS = {
  name: "voicecode_insert_plain_calls",
  text: `WITH c AS (
       INSERT INTO calls (call_id, provider, phone_masked, play_times, client_reference,
         idempotency_key, request_hash, metadata, state, failure_reason, route, sealed_request,
         created_at_ms, updated_at_ms, tenant, kind, template_name)
       SELECT call_id, provider, phone_masked, play_times, client_reference, '', request_hash,
         metadata::jsonb, ${CallState.PENDING}, 0, route::jsonb, sealed_request, now_ms, now_ms,
         tenant, kind, template_name
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[])
         WITH ORDINALITY AS u(call_id, provider, phone_masked, play_times, client_reference,
           request_hash, metadata, route, sealed_request, now_ms, tenant, kind, template_name, i)
       ORDER BY i
       RETURNING ${q.CALL_COLUMNS}),
     a AS (INSERT INTO attempts (call_id, attempt, provider, started_at_ms)
       SELECT call_id, 1, provider, created_at_ms FROM c)
     SELECT * FROM c`,
} as const;

export const ANSWER_LOCKS = {
  name: "voicecode_answer_locks",
  text: `SELECT pg_advisory_xact_lock($1, hashtext(s.provider || chr(31) || s.pc)) FROM (
         SELECT c.provider, u.pc FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(call_id, pc, i)
         JOIN calls c ON c.call_id = u.call_id ORDER BY u.i OFFSET 0) s`,
} as const;

export const ANSWER_ROWS = {
  name: "voicecode_answer_rows",
  text: `SELECT ${q.CALL_COLUMNS}, route FROM calls WHERE call_id = ANY($1::text[]) ORDER BY call_id FOR UPDATE`,
} as const;

export const ANSWER_CONTEXT = {
  name: "voicecode_answer_context",
  text: `SELECT 'a' AS kind, to_jsonb(attempts) AS row FROM attempts WHERE call_id = ANY($1::text[])
     UNION ALL
     SELECT 'h', jsonb_build_object('call_id', c.call_id, 'provider', c.provider, 'provider_call_id', c.provider_call_id)
       FROM calls c JOIN unnest($2::text[], $3::text[]) AS u(provider, pc)
         ON c.provider = u.provider AND c.provider_call_id = u.pc AND c.provider_call_id <> ''
     UNION ALL
     SELECT 'p', to_jsonb(i) FROM (
       SELECT inbound.* FROM inbound JOIN unnest($4::text[], $5::text[]) AS u(provider, pc)
         ON inbound.provider = u.provider AND inbound.provider_call_id = u.pc AND u.pc <> ''
       WHERE disposition = 'parked'
       UNION
       SELECT inbound.* FROM inbound JOIN unnest($4::text[], $6::text[]) AS u(provider, echo)
         ON inbound.provider = u.provider AND inbound.call_id_hint = u.echo
       WHERE disposition = 'parked') i`,
} as const;
