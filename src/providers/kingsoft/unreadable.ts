/**
 * A report in a push that we cannot use (no CallId, an unknown Status, no ErrCode, not
 * an object). Refusing the push would make Kingsoft re-push the whole batch forever
 * and lose the good reports in it, so the report is acknowledged with the rest and
 * becomes an `unreadable` event: the store keeps it with the pushes it cannot match
 * (parked, in `inbound`: no provider id and no echo, so it is never applied to a call),
 * and the webhook server counts it. Its text is the raw report, numbers masked.
 */
import { createHash } from "node:crypto";
import { CallState, FailureReason } from "../../core/model.js";
import type { InboundEvent } from "../../core/provider.js";
import { maskNumbers } from "./redact.js";

/** Bound on what is kept of one report; a real report is a few hundred bytes. */
export const MAX_UNREADABLE_TEXT = 4096;

/** Report fields kept as sent: Kingsoft's id and our own, what support would ask for. */
const ID_FIELDS = new Set(["CallId", "ExtId"]);

/**
 * The event that keeps an unusable report. `problem` says why (a zod path and message,
 * which name types, never values). The dedupe key hashes the masked text, so a re-push
 * of the same report is recognized without keeping a hash of the callee's number.
 */
export function unreadableReport(report: unknown, problem: string): InboundEvent {
  const raw = maskedJson(report);
  return {
    dedupeKey: `unreadable:${createHash("sha256").update(raw).digest("hex")}`,
    providerCallId: "",
    callId: undefined,
    state: CallState.UNSPECIFIED,
    failureReason: FailureReason.UNSPECIFIED,
    providerCode: "unreadable",
    providerText: `unreadable report (${problem}): ${raw}`.slice(0, MAX_UNREADABLE_TEXT),
    occurredAtMs: undefined,
    unreadable: true,
  };
}

/** The report as JSON with every number masked (keys too), ids excepted; at most a few KiB of it. */
function maskedJson(report: unknown): string {
  let root: unknown;
  const json = JSON.stringify(report, function replace(this: unknown, key: string, value: unknown) {
    const keepId = this === root && ID_FIELDS.has(key);
    let out = value;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      out = Object.fromEntries(Object.entries(value).map(([k, v]) => [maskNumbers(k), v]));
    } else if (typeof value === "string") {
      out = keepId ? value : maskNumbers(value);
    } else if (typeof value === "number" && !keepId && Number.isInteger(value) && Math.abs(value) >= 1e6) {
      // A long number sent as a JSON number is masked as text ("*******5678").
      out = maskNumbers(String(value));
    }
    // The root's copy is the holder its own fields are visited with.
    if (root === undefined && key === "") root = out;
    return out;
  });
  return (json ?? String(report)).slice(0, MAX_UNREADABLE_TEXT);
}
