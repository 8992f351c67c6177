/** What the core reports; src/metrics.ts implements it with prom-client. */
export interface CoreMetrics {
  /** outcome: accepted | rejected | ambiguous | replayed | error */
  sendFinished(provider: string, outcome: string): void;
  watchOpened(): void;
  watchClosed(): void;
}

export const noopCoreMetrics: CoreMetrics = {
  sendFinished() {},
  watchOpened() {},
  watchClosed() {},
};
