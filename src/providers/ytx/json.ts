/**
 * JSON.parse that keeps long integer ids exact. ytx documents its ids as strings
 * ("2016010000000205"), but the push format is unknown and a numeric id of 16+ digits
 * would silently lose its last digits as a JS number, matching no call. Integer literals
 * longer than 15 digits outside strings are read as strings instead.
 */

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SAFE_INTEGER_DIGITS = 15;

/**
 * Deepest array/object nesting read. A push or an API answer is two levels deep; the
 * webhook (JSON.stringify for the dedupe key, the schema, read-push) walks the value
 * recursively, and a body nested 4,113+ levels overflowed the stack (a 500 instead of a
 * 400). The same scan that quotes long integers counts the depth, so nothing recursive
 * ever sees a deeper value.
 */
export const YTX_MAX_JSON_DEPTH = 64;

/** The text nests arrays/objects deeper than YTX_MAX_JSON_DEPTH. */
export class JsonTooDeepError extends SyntaxError {
  override readonly name = "JsonTooDeepError";
}

/**
 * Like JSON.parse (throws SyntaxError the same way), but long integers become strings,
 * and nesting deeper than YTX_MAX_JSON_DEPTH throws JsonTooDeepError.
 */
export function parseJsonLossless(text: string): unknown {
  return JSON.parse(quoteLongIntegers(text));
}

function quoteLongIntegers(text: string): string {
  const parts: string[] = [];
  let start = 0;
  let inString = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      continue;
    }
    if (ch === "[" || ch === "{") {
      depth++;
      if (depth > YTX_MAX_JSON_DEPTH) throw new JsonTooDeepError(`nested deeper than ${YTX_MAX_JSON_DEPTH} levels`);
      continue;
    }
    if (ch === "]" || ch === "}") {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (ch !== "-" && (ch === undefined || ch < "0" || ch > "9")) continue;
    NUMBER.lastIndex = i;
    const token = NUMBER.exec(text)?.[0];
    if (token === undefined) continue;
    if (/^-?\d+$/.test(token) && token.replace("-", "").length > SAFE_INTEGER_DIGITS) {
      parts.push(text.slice(start, i), `"${token}"`);
      start = i + token.length;
    }
    i += token.length - 1;
  }
  parts.push(text.slice(start));
  return parts.join("");
}
