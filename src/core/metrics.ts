/** What the core reports; src/metrics.ts implements it with prom-client. */
/**
 * Every metric of a request carries its tenant: tenant names come from configuration,
 * so the label's cardinality stays bounded.
 */
export interface CoreMetrics {
  /** outcome: accepted | rejected | ambiguous | replayed | error */
  sendFinished(provider: string, outcome: string, tenant: string): void;
  /** A Send refused by a limit or the destination policy (reason: the ErrorInfo reason). */
  sendRefused(tenant: string, reason: string): void;
  watchOpened(tenant: string): void;
  watchClosed(tenant: string): void;
}

export const noopCoreMetrics: CoreMetrics = {
  sendFinished() {},
  sendRefused() {},
  watchOpened() {},
  watchClosed() {},
};
