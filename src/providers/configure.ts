/**
 * The common first step of every provider's configure(): decide absent / incomplete /
 * invalid before parsing values, so an operator sees "missing X" rather than a zod
 * message about undefined, and a provider nobody configured is silently not offered.
 */
import type { z } from "zod";
import type { Env } from "./module.js";

export type ReadEnvResult<T> =
  | { readonly status: "absent" }
  | { readonly status: "incomplete"; readonly missing: readonly string[] }
  | { readonly status: "invalid"; readonly errors: readonly string[] }
  | { readonly status: "ok"; readonly data: T };

export interface ReadEnvOptions<S extends z.ZodType> {
  /** Variables that must all be set for the provider to be usable. */
  readonly required: readonly string[];
  /** Variables that may be set; together with `required`, all the schema reads. */
  readonly optional: readonly string[];
  /** Parses the present variables (keyed by variable name). */
  readonly schema: S;
}

export function readProviderEnv<S extends z.ZodType>(
  env: Env,
  options: ReadEnvOptions<S>,
): ReadEnvResult<z.output<S>> {
  const names = [...options.required, ...options.optional];
  const present: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") present[name] = value;
  }
  if (Object.keys(present).length === 0) return { status: "absent" };
  const missing = options.required.filter((name) => present[name] === undefined);
  if (missing.length > 0) return { status: "incomplete", missing };
  const parsed = options.schema.safeParse(present);
  if (!parsed.success) {
    return {
      status: "invalid",
      errors: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    };
  }
  return { status: "ok", data: parsed.data };
}
