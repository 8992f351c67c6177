/** In-memory stdout/stderr for runCli, with an optional hook on each write. */
import type { TextSink } from "../../src/cli/main.js";

export interface Capture extends TextSink {
  readonly text: () => string;
  readonly lines: () => string[];
}

export function capture(onWrite?: (chunk: string) => void): Capture {
  const chunks: string[] = [];
  return {
    write(chunk: string) {
      chunks.push(chunk);
      onWrite?.(chunk);
      return true;
    },
    text: () => chunks.join(""),
    lines: () => chunks.join("").split("\n").filter((l) => l !== ""),
  };
}
