/**
 * Huawei's push timestamps: "yyyy-MM-dd HH:mm:ss" in UTC (CDR docs: "+8 h for Beijing
 * time"). Some examples show two spaces between date and time, and sample comments call
 * the field a UNIX timestamp, so both are read. Anything else gives undefined rather
 * than an error: a push is not worth losing over its clock.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T| +)(\d{2}):(\d{2}):(\d{2})Z?$/;

/** Epoch milliseconds, or undefined for an absent or unreadable value. */
export function parseHuaweiTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{10}$/.test(trimmed)) return Number(trimmed) * 1000;
  if (/^\d{13}$/.test(trimmed)) return Number(trimmed);
  const m = DATE_TIME.exec(trimmed);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2024-02-31 over into March; a real timestamp never needs that.
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  return ms;
}
