/**
 * JSON.parse that also takes trailing commas in objects and arrays. Kingsoft's doc
 * prints its status-push example with a comma after each report's last member, nothing
 * says real pushes differ, and a push we refuse is re-pushed forever: a body written
 * the way the doc writes it must be read. Nothing else is relaxed (no comments, single
 * quotes, empty elements); JSON.parse does all the parsing, this only drops commas.
 */

/**
 * Like JSON.parse (throws SyntaxError the same way), but a comma that follows a value
 * and is followed, after whitespace, by `}` or `]` is ignored. One pass over the text,
 * no recursion: the cost is linear in the body, which the webhook server bounds.
 */
export function parseJsonAllowingTrailingCommas(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const stripped = stripTrailingCommas(text);
    if (stripped === text) throw err;
    return JSON.parse(stripped);
  }
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

function stripTrailingCommas(text: string): string {
  const parts: string[] = [];
  let start = 0;
  let inString = false;
  // The last significant character outside strings: a trailing comma must follow a value.
  let previous = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') {
        inString = false;
        previous = '"';
      }
      continue;
    }
    if (WHITESPACE.has(ch)) continue;
    if (ch === '"') {
      inString = true;
      continue;
    }
    if (ch === "," && previous !== "" && previous !== "," && previous !== "[" && previous !== "{") {
      let next = i + 1;
      while (next < text.length && WHITESPACE.has(text[next] ?? "")) next++;
      const closer = text[next];
      if (closer === "}" || closer === "]") {
        parts.push(text.slice(start, i));
        start = i + 1;
        // What precedes the closer is still the value before the dropped comma.
        continue;
      }
    }
    previous = ch;
  }
  parts.push(text.slice(start));
  return parts.join("");
}
