import { invalidArgument } from "./errors.js";
import type { Provider } from "./provider.js";

/** The providers offered for routing: only those whose configuration is complete. */
export interface ProviderRegistry {
  /** Resolves a requested name ("" = default); throws INVALID_ARGUMENT on `provider`. */
  resolve(name: string): Provider;
  get(name: string): Provider | undefined;
  readonly names: readonly string[];
}

export function createProviderRegistry(
  providers: readonly Provider[],
  defaultName: string,
): ProviderRegistry {
  const byName = new Map(providers.map((p) => [p.name, p] as const));
  if (!byName.has(defaultName)) {
    throw new Error(`default provider "${defaultName}" is not among the configured providers`);
  }
  const names = [...byName.keys()];
  return {
    resolve(name) {
      const provider = byName.get(name === "" ? defaultName : name);
      if (provider === undefined) {
        throw invalidArgument("provider", `unknown or unconfigured provider; use one of: ${names.join(", ")}`);
      }
      return provider;
    },
    get: (name) => byName.get(name),
    names,
  };
}
