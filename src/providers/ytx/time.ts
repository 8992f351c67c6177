/**
 * ytx timestamps are wall-clock strings without a zone ("yyyyMMddHHmmss"). The seed does
 * not name the zone; ytx is a mainland service and its official .NET demo formats
 * DateTime.Now on servers in China, so we use Beijing time (UTC+8, no daylight saving)
 * whatever the host's zone is. The 24-hour validity window of the timestamp makes an
 * error of a few hours harmless either way.
 */

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** `yyyyMMddHHmmss` in Beijing time, e.g. 2014-04-16T06:20:30Z -> "20140416142030". */
export function formatBeijingTimestamp(ms: number): string {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds())
  );
}

const WALL_CLOCK = /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/;

/**
 * Reads a Beijing wall-clock time, compact ("20140416142030") or spaced
 * ("2014-04-16 14:20:30"). Undefined for anything else, including impossible dates.
 */
export function parseBeijingTimestamp(text: string): number | undefined {
  const m = WALL_CLOCK.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - BEIJING_OFFSET_MS;
  // Date.UTC rolls 2014-02-30 over to March: a round trip exposes it.
  return formatBeijingTimestamp(ms) === `${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}${m[6]}` ? ms : undefined;
}

/**
 * A push's time field, in whichever form it comes (the push format is undocumented):
 * Beijing wall clock, ISO 8601 with an offset, or epoch seconds / milliseconds.
 */
export function parsePushTime(value: unknown): number | undefined {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  if (/^\d{10}$/.test(text)) return Number(text) * 1000;
  if (/^\d{13}$/.test(text)) return Number(text);
  const wall = parseBeijingTimestamp(text);
  if (wall !== undefined) return wall;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
