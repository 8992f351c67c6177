import type { WatchStatusResponse } from "../../gen/voicecode/v1/voicecode_pb.js";
import { CallState, FailureReason } from "../../src/core/model.js";

/** Reads a watch to its end (or until `limit` events), as compact rows. */
export async function collect(
  stream: AsyncIterable<WatchStatusResponse>,
  limit = Number.POSITIVE_INFINITY,
): Promise<EventRow[]> {
  const rows: EventRow[] = [];
  for await (const { event } of stream) {
    if (event === undefined) throw new Error("response without event");
    rows.push({
      sequence: Number(event.sequence),
      callId: event.callId,
      state: CallState[event.state],
      reason: FailureReason[event.failureReason],
      terminal: event.terminal,
      providerCode: event.providerCode,
      // Only when set, so rows of calls without a key press compare as before.
      ...(event.pressedKey === "" ? {} : { pressedKey: event.pressedKey }),
    });
    if (rows.length >= limit) break;
  }
  return rows;
}

export interface EventRow {
  readonly sequence: number;
  readonly callId: string;
  readonly state: string | undefined;
  readonly reason: string | undefined;
  readonly terminal: boolean;
  readonly providerCode: string;
  /** The IVR key press, on the event that reported one. */
  readonly pressedKey?: string;
}
