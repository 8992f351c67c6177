/**
 * Names the PostgreSQL store and the PostgreSQL bus must agree on. Advisory locks are
 * scoped to one database, so these keys only need to be unique within voicecode's own.
 */

/** NOTIFY channel raised by every transaction that appends events. */
export const EVENTS_CHANNEL = "voicecode_events";

/** First half of every advisory lock key: "voic" in ASCII, to stay clear of other users. */
export const LOCK_NAMESPACE = 0x766f6963;

/** Held while migrating, so replicas starting together migrate once, one after another. */
export const MIGRATION_LOCK = 1;

// 2 was the event-order lock of older builds (gone, see visibility.ts): not reused.

/** Tried (never waited for) by each retention batch, so one replica prunes at a time. */
export const RETENTION_LOCK = 3;

/**
 * First half of the per-provider-call-id locks ("void"); the second half is a hash of
 * provider and provider call id (queries.ts insertInboundBatch). A namespace of its own,
 * so no hash can ever equal MIGRATION_LOCK.
 */
export const PROVIDER_CALL_LOCK_NAMESPACE = 0x766f6964;
