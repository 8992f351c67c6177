/**
 * What the process does with each SIGTERM/SIGINT: the first starts a graceful drain, a
 * later one exits at once (an operator who will not wait). Under `npm start` a Ctrl-C
 * reaches the server twice within a millisecond, once from the terminal (the whole
 * foreground process group gets it) and once forwarded by npm; that copy must not count
 * as "stop now", so the same signal repeated within `repeatWindowMs` is ignored.
 */
export type SignalAction = "drain" | "ignore" | "exit";

export interface SignalPolicyOptions {
  readonly now: () => number;
  /** How long a repeat of the first signal counts as a copy of it. Default 1 000 ms. */
  readonly repeatWindowMs?: number;
}

export function createSignalPolicy(options: SignalPolicyOptions): (signal: NodeJS.Signals) => SignalAction {
  const windowMs = options.repeatWindowMs ?? 1_000;
  let first: { readonly signal: NodeJS.Signals; readonly atMs: number } | undefined;
  return (signal) => {
    if (first === undefined) {
      first = { signal, atMs: options.now() };
      return "drain";
    }
    return signal === first.signal && options.now() - first.atMs < windowMs ? "ignore" : "exit";
  };
}
