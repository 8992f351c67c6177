/**
 * The zod schemas of the limit variables (see src/core/limits.ts for what they mean).
 * Apart from config.ts only so that file stays one screen of plain variables.
 */
import { z } from "zod";
import type { WindowLimit } from "./core/limits.js";

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const off = (v: string): boolean => /^(off|none)$/i.test(v.trim());

/** "1/1m,5/1h,10/1d" (at most N calls per window), or "off". */
export const numberLimits = z.string().transform((value, ctx): WindowLimit[] => {
  if (off(value)) return [];
  const limits: WindowLimit[] = [];
  for (const item of value.split(",").map((s) => s.trim())) {
    const m = /^(\d{1,6})\/(\d{1,4})([smhd])$/.exec(item);
    const max = Number(m?.[1]);
    const n = Number(m?.[2]);
    const unit = UNIT_MS[m?.[3] ?? ""];
    if (m === null || unit === undefined || max < 1 || n < 1 || n * unit > 7 * 86_400_000) {
      ctx.addIssue({
        code: "custom",
        message: `"${item}" is not COUNT/WINDOW like 5/1h (units s m h d, window at most 7d, count at least 1), or off`,
      });
      return z.NEVER;
    }
    limits.push({ max, windowMs: n * unit, label: `${n}${m[3]}` });
  }
  return limits.sort((a, b) => a.windowMs - b.windowMs);
});

/** A positive count, or "off" (null: zod's default() would replace an undefined). */
export const countOrOff = z.string().transform((value, ctx): number | null => {
  if (off(value)) return null;
  if (!/^\d{1,9}$/.test(value.trim()) || Number(value) < 1) {
    ctx.addIssue({ code: "custom", message: "must be a positive whole number, or off" });
    return z.NEVER;
  }
  return Number(value);
});

/** Country calling codes ("86,852"), or "*" for any. */
export const countries = z.string().transform((value, ctx): readonly string[] | "any" => {
  if (value.trim() === "*") return "any";
  const codes = value.split(",").map((s) => s.trim().replace(/^\+/, ""));
  const bad = codes.filter((c) => !/^[1-9]\d{0,2}$/.test(c));
  if (bad.length > 0) {
    ctx.addIssue({ code: "custom", message: `not country calling codes: ${bad.join(", ")} (e.g. 86,852, or * for any)` });
    return z.NEVER;
  }
  return codes;
});

/** E.164 prefixes ("+86168,+86170"). */
export const prefixes = z.string().transform((value, ctx): readonly string[] => {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = items.filter((p) => !/^\+[1-9]\d{0,14}$/.test(p));
  if (bad.length > 0) {
    ctx.addIssue({ code: "custom", message: `not E.164 prefixes: ${bad.join(", ")} (e.g. +86168)` });
    return z.NEVER;
  }
  return items;
});
