/**
 * Whether the process should receive traffic. Both transports read it (gRPC health,
 * /readyz); the composition root flips it: not serving while starting and draining.
 */
export interface Health {
  readonly serving: boolean;
  setServing(serving: boolean): void;
  /** Called on every change (not with the current value); returns the unsubscribe. */
  subscribe(listener: (serving: boolean) => void): () => void;
}

export function createHealth(initial = false): Health {
  let serving = initial;
  const listeners = new Set<(serving: boolean) => void>();
  return {
    get serving() {
      return serving;
    },
    setServing(next) {
      if (next === serving) return;
      serving = next;
      // A copy, so a listener that unsubscribes while being called doesn't skip another.
      for (const listener of [...listeners]) listener(next);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
