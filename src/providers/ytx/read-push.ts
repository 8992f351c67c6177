/**
 * Finding the id, status and time in a push whose format ytx does not document
 * (UNCONFIRMED). Keys are compared lower-cased without "_" and "-" (requestId, request_id
 * and REQUESTID are one key), at the top level first, then one object level down (for
 * envelopes such as {"data":{...}}).
 */
import { CallState } from "../../core/model.js";
import { GENERIC_FAILURE, type PushStatus, pushStatusFor } from "./codes.js";
import { maskDigitRuns } from "./mask.js";
import { parsePushTime } from "./time.js";
import type { YtxPushRecord } from "./wire.js";

/** requestId first: it is what CodeCallOut.wx returned and what we stored. */
export const ID_KEYS = ["requestid", "callid", "callsid", "sessionid"] as const;
/** Outcome-like keys before progress-like ones. */
export const STATUS_KEYS = [
  "result",
  "callresult",
  "state",
  "status",
  "callstate",
  "callstatus",
  "statuscode",
  "event",
  "eventtype",
  "reason",
  "failreason",
  "failurereason",
] as const;
export const TIME_KEYS = ["timestamp", "eventtime", "endtime", "hanguptime", "reporttime", "time"] as const;

export interface PushFields {
  /** The provider call id, or "" when none was found. */
  readonly providerCallId: string;
  /**
   * The raw status value chosen (mapped or not), or "" when none was found; stored and
   * logged, so phone-like digit runs in it are masked.
   */
  readonly rawStatus: string;
  /** Undefined when no status value maps to a known word. */
  readonly status: PushStatus | undefined;
  readonly occurredAtMs: number | undefined;
  /** Normalized names of the top-level keys, for a log line about an unknown push. */
  readonly keys: readonly string[];
}

const normalize = (key: string): string => key.toLowerCase().replace(/[_-]/g, "");

/** The fields ytx's push may carry, as far as they can be recognised. */
export function readPush(record: YtxPushRecord): PushFields {
  const scopes = scopesOf(record);
  const values = (keys: readonly string[]): unknown[] =>
    scopes.flatMap((scope) => keys.filter((k) => scope.has(k)).map((k) => scope.get(k)));

  const providerCallId = values(ID_KEYS).map(idText).find((id) => id !== undefined) ?? "";
  const statuses = values(STATUS_KEYS).map(scalarText).filter((s): s is string => s !== undefined && s !== "");
  const known = statuses.flatMap((raw) => {
    const status = pushStatusFor(raw);
    return status === undefined ? [] : [{ raw, status }];
  });
  const chosen = decide(known);
  const occurredAtMs = values(TIME_KEYS).map(parsePushTime).find((t) => t !== undefined);

  return {
    providerCallId,
    rawStatus: maskDigitRuns(chosen?.raw ?? statuses[0] ?? ""),
    status: chosen?.status,
    occurredAtMs,
    keys: [...(scopes[0]?.keys() ?? [])],
  };
}

interface Known {
  readonly raw: string;
  readonly status: PushStatus;
}

const sameStatus = (a: PushStatus, b: PushStatus): boolean => a.state === b.state && a.reason === b.reason;

/**
 * The status of a push whose recognised words may come from several keys. They must
 * agree: an envelope's {"status":"success"} around {"state":"busy"}, or {"state":
 * "callout","result":"success"}, would otherwise complete a call that failed or has just
 * been dialled, and a wrong final state is worse than none (the push is then kept as
 * unrecognised). Only failures may differ: a bare "failed" gives way to a precise
 * reason, and precise reasons that disagree leave a provisional failure of unknown reason.
 */
function decide(known: readonly Known[]): Known | undefined {
  const first = known[0];
  if (first === undefined) return undefined;
  if (known.every((k) => sameStatus(k.status, first.status))) return first;
  if (!known.every((k) => k.status.state === CallState.FAILED)) return undefined;
  const precise = known.filter((k) => k.status.provisional !== true);
  const firstPrecise = precise[0];
  if (firstPrecise !== undefined && precise.every((k) => sameStatus(k.status, firstPrecise.status))) return firstPrecise;
  return { raw: first.raw, status: GENERIC_FAILURE };
}

function scopesOf(record: YtxPushRecord): Map<string, unknown>[] {
  const top = new Map<string, unknown>();
  const nested = new Map<string, unknown>();
  for (const [key, value] of Object.entries(record)) {
    top.set(normalize(key), value);
  }
  for (const value of Object.values(record)) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
    for (const [key, inner] of Object.entries(value)) {
      if (!nested.has(normalize(key))) nested.set(normalize(key), inner);
    }
  }
  return [top, nested];
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim().slice(0, 64);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function idText(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  if (typeof value !== "string") return undefined;
  const id = value.trim();
  return id !== "" && id.length <= 128 ? id : undefined;
}
