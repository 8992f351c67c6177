import type { LogBindings } from "../telemetry/request-scope.js";

/**
 * Who sent a request, as the transports established it. The core, not the transports,
 * decides what a caller may see: every call belongs to the tenant that sent it.
 */
export interface Caller {
  readonly tenant: string;
  /**
   * The request's ids for the core's log lines (`request_id`, `trace_id`), when the
   * transport opened a request scope; passed along rather than kept in async context
   * (src/telemetry/request-scope.ts says why).
   */
  readonly logBindings?: LogBindings;
}

/** The one tenant of a service run without keys (the embedded, no-set-up default). */
export const DEFAULT_TENANT = "default";
