/**
 * Reads the routing table from configuration: VOICECODE_ROUTES (compact
 * "+861=kingsoft,tencent;+86=tencent,huawei", or the JSON form) or the JSON file that
 * VOICECODE_ROUTES_FILE names. Every bad entry is reported, by position, at start-up.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { FailureReason } from "../core/model.js";
import type { OutcomeFallback, Route } from "./route-table.js";

export const FALLBACK_DEFAULTS = {
  on: ["BUSY", "NO_ANSWER", "UNREACHABLE", "POWERED_OFF"],
  maxAttempts: 2,
  deadlineMs: 600_000,
} as const;

const reasonNames = Object.keys(FailureReason).filter(
  (k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED",
) as [string, ...string[]];

const FallbackSchema = z
  .object({
    on: z.array(z.enum(reasonNames)).min(1).default([...FALLBACK_DEFAULTS.on]),
    maxAttempts: z.number().int().min(2).max(4).default(FALLBACK_DEFAULTS.maxAttempts),
    deadlineMs: z.number().int().min(1_000).max(86_400_000).default(FALLBACK_DEFAULTS.deadlineMs),
  })
  .strict();

const RouteSchema = z
  .object({
    prefix: z.string().regex(/^\+[0-9]{0,15}$/, 'must be "+" and up to 15 digits'),
    providers: z.array(z.string().min(1)).min(1),
    fallback: z.union([z.literal(true), FallbackSchema]).optional(),
  })
  .strict();

const TableSchema = z.object({ routes: z.array(RouteSchema).min(1) }).strict();

export type RoutesResult =
  | { readonly ok: true; readonly routes: readonly Route[] | undefined }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface RouteSources {
  readonly inline: string | undefined;
  readonly file: string | undefined;
}

/**
 * Parses the table and checks every provider it names against `usable` (configured and
 * complete). `undefined` routes: no table, the default provider alone routes everything.
 */
export function parseRoutes(sources: RouteSources, usable: readonly string[]): RoutesResult {
  if (sources.inline !== undefined && sources.file !== undefined) {
    return { ok: false, errors: ["VOICECODE_ROUTES: set it or VOICECODE_ROUTES_FILE, not both"] };
  }
  const variable = sources.file !== undefined ? "VOICECODE_ROUTES_FILE" : "VOICECODE_ROUTES";
  let raw: unknown;
  try {
    if (sources.file !== undefined) raw = JSON.parse(readFileSync(sources.file, "utf8"));
    else if (sources.inline === undefined) return { ok: true, routes: undefined };
    else raw = sources.inline.trimStart().startsWith("{") ? JSON.parse(sources.inline) : compact(sources.inline);
  } catch (err) {
    return { ok: false, errors: [`${variable}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const parsed = TableSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${variable}: ${i.path.join(".") || "(table)"}: ${i.message}`),
    };
  }
  const errors: string[] = [];
  const seen = new Set<string>();
  parsed.data.routes.forEach((route, index) => {
    const at = `${variable}: routes.${index} (${route.prefix})`;
    if (seen.has(route.prefix)) errors.push(`${at}: prefix listed twice`);
    seen.add(route.prefix);
    const names = new Set<string>();
    for (const name of route.providers) {
      if (names.has(name)) errors.push(`${at}: provider "${name}" listed twice`);
      names.add(name);
      if (!usable.includes(name)) {
        errors.push(`${at}: provider "${name}" is not usable; usable: ${usable.join(", ") || "none"}`);
      }
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    routes: parsed.data.routes.map((route) => ({
      prefix: route.prefix,
      providers: route.providers,
      fallback: fallback(route.fallback),
    })),
  };
}

function fallback(input: true | z.infer<typeof FallbackSchema> | undefined): OutcomeFallback | undefined {
  if (input === undefined) return undefined;
  const options = input === true ? FallbackSchema.parse({}) : input;
  return {
    on: options.on.map((name) => FailureReason[name as keyof typeof FailureReason]),
    maxAttempts: options.maxAttempts,
    deadlineMs: options.deadlineMs,
  };
}

/** "+861=kingsoft,tencent;+86=tencent,huawei" -> the JSON form (no fallback options). */
function compact(text: string): unknown {
  const routes = text
    .split(/[;\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const eq = entry.indexOf("=");
      if (eq < 0) throw new Error(`"${entry}": expected <prefix>=<provider>,<provider>...`);
      return {
        prefix: entry.slice(0, eq).trim(),
        providers: entry
          .slice(eq + 1)
          .split(",")
          .map((p) => p.trim())
          .filter((p) => p !== ""),
      };
    });
  return { routes };
}
