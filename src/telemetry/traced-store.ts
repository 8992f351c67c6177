/**
 * The store with a span around every method ("store.<method>"): one decorator here rather
 * than spans in both engines. Only applied when tracing is on.
 */
import { SpanKind } from "@opentelemetry/api";
import type { Store } from "../store/store.js";
import { traced } from "./traced.js";

export function tracedStore(store: Store): Store {
  const wrapped: Record<string, unknown> = {};
  for (const key of methodNames(store)) {
    const method = (store as unknown as Record<string, unknown>)[key];
    if (typeof method !== "function") continue;
    wrapped[key] = (...args: unknown[]) =>
      traced(`store.${key}`, () => method.apply(store, args), { "db.operation.name": key }, SpanKind.CLIENT);
  }
  return Object.assign(Object.create(store) as object, wrapped) as unknown as Store;
}

/** Own and prototype method names (a store may be a class instance or a plain object). */
function methodNames(store: Store): string[] {
  const names = new Set<string>();
  for (let o: object | null = store; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== "constructor") names.add(name);
  }
  return [...names];
}
