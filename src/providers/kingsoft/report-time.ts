/**
 * Times in Kingsoft status reports: "2020-05-28 18:44:39" with no zone. Kingsoft is a
 * mainland service and its console shows Beijing time, so they are read as UTC+8
 * (China has no daylight saving). UNCONFIRMED by the doc, which shows no zone at all.
 */

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const FORMAT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;

/**
 * Epoch milliseconds of a report time, or undefined when it is empty or not a real
 * date in the documented form: a time is informative, never worth failing a push for.
 */
export function parseReportTime(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const m = FORMAT.exec(value.trim());
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(utc);
  // Date.UTC rolls 2020-02-31 over to March: a date that does not survive is not real.
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  return utc - BEIJING_OFFSET_MS;
}
