/**
 * How deeply a push body nests JSON arrays and objects, measured without parsing it.
 *
 * Every provider's push is at most three levels deep (Huawei's {"feeLst":[{...}]}), yet a
 * parser that recurses (JSON.stringify, a schema walk, a hand-written reader) overflows
 * the stack on a body nested a few thousand levels, which the webhook port, open to the
 * Internet, would otherwise turn into a 500. The ingress refuses such bodies before any
 * provider parser sees them, so every provider answers the same 400.
 *
 * The scan is iterative and byte-wise: '"', '\\', '[', ']', '{' and '}' are ASCII, and no
 * byte of a multi-byte UTF-8 sequence is below 0x80, so the bytes can be read as they come.
 * Brackets inside strings are text, not nesting. The scan does not validate JSON (the
 * provider's parser does that); on a body that is not JSON (a form) it may under-count,
 * which only lets the provider's own parser refuse it.
 */

/** Far above any real push, far below where a recursive reader overflows. */
export const MAX_PUSH_NESTING = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** True when `body` opens more than `max` arrays/objects inside one another. */
export function nestsDeeperThan(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      depth++;
      if (depth > max) return true;
    } else if ((byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) && depth > 0) depth--;
  }
  return false;
}
