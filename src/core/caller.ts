/**
 * Who sent a request, as the transports established it. The core, not the transports,
 * decides what a caller may see: every call belongs to the tenant that sent it.
 */
export interface Caller {
  readonly tenant: string;
}

/** The one tenant of a service run without keys (the embedded, no-set-up default). */
export const DEFAULT_TENANT = "default";
