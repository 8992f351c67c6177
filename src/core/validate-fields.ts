/**
 * Field rules that more than one request applies (Send, GetCall, WatchStatus), stated
 * once so a field is bounded, and its errors worded, the same wherever it appears.
 */
import { invalidArgument } from "./errors.js";

/** Longest client_reference, in Send and as a WatchStatus target. */
export const CLIENT_REFERENCE_MAX_CHARS = 128;
/** Longest call_id accepted in a request (ours are 26-character ULIDs). */
export const CALL_ID_MAX_CHARS = 64;

// ULIDs, and the ids tests inject, without anything that could disturb a log or URL.
const CALL_ID = /^[A-Za-z0-9_-]+$/;

export function checkLength(field: string, value: string, max: number): void {
  if (value.length > max) throw invalidArgument(field, `at most ${max} characters`);
}

/** PostgreSQL text cannot hold U+0000; refusing it here keeps both engines alike. */
export function checkNoNul(field: string, value: string): void {
  if (value.includes("\u0000")) throw invalidArgument(field, "must not contain NUL characters");
}

/** An optional client_reference (empty is allowed; a WatchStatus target checks that itself). */
export function checkClientReference(value: string): void {
  checkLength("client_reference", value, CLIENT_REFERENCE_MAX_CHARS);
  checkNoNul("client_reference", value);
}

/** A required call_id; returns it. */
export function checkCallId(callId: string): string {
  if (callId === "") throw invalidArgument("call_id", "is required");
  checkLength("call_id", callId, CALL_ID_MAX_CHARS);
  if (!CALL_ID.test(callId)) throw invalidArgument("call_id", "must be letters, digits, '-' or '_'");
  return callId;
}

/** True when `value` holds a C0 control character or DEL (newline, tab, backspace, NUL...). */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
