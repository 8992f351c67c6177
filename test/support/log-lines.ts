/** A pino destination that keeps every JSON log line written to it, parsed. */
import { Writable } from "node:stream";

export function jsonLogLines(): { readonly sink: Writable; readonly lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return { sink, lines };
}
