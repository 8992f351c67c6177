/** The command that resumes an interrupted watch, printed whole so it can be pasted. */
import type { WatchTarget } from "./args.js";
import { clean } from "./format.js";
import { DEFAULT_ADDR } from "./usage.js";

export function resumeCommand(target: WatchTarget, afterSequence: bigint, addr: string): string {
  const words = ["voicecode", "watch"];
  if (target.case === "callId") words.push(shellWord(target.value));
  else words.push("--ref", shellWord(target.value));
  if (afterSequence > 0n) words.push("--after", String(afterSequence));
  if (addr !== DEFAULT_ADDR) words.push("--addr", shellWord(addr));
  return words.join(" ");
}

// Ids and references come from the server or the user: quote anything a POSIX shell
// would split or expand, and drop control characters before they reach a terminal.
function shellWord(text: string): string {
  const safe = clean(text);
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(safe) ? safe : `'${safe.replaceAll("'", `'\\''`)}'`;
}
