/**
 * Which events a reader may hand out so that "resume after N" never skips one, with
 * writers running in parallel (no fleet-wide lock).
 *
 * The trap: a sequence value is drawn at INSERT, not at COMMIT. Writer X draws 41, Y
 * draws 42 and commits first; a reader that returns 42 and later resumes "after 42"
 * never sees 41. So a reader returns only events up to a *horizon* H such that no
 * transaction still running can ever commit an event at or below H.
 *
 * Why not simply "xact_id < xmin of the reader's snapshot" (every transaction older
 * than xmin has finished)? Transaction ids are handed out when a transaction first
 * writes, not when it draws a sequence: Y may get its id before X (it wrote an inbound
 * row first) yet draw its sequence after X. Then Y's 42 is below xmin while X, still
 * running with 41, is not; the reader returns 42 and 41 is lost
 * (test/store/postgres-commit-order.test.ts shows it).
 *
 * What the schema guarantees instead (migration 2, both by triggers, so every insert
 * obeys them whatever its origin):
 *   1. A transaction has its id before it draws a sequence (BEFORE INSERT ... FOR EACH
 *      STATEMENT assigns it), so a running drawer is always among a snapshot's running ids.
 *   2. Every event row is rewritten (settled = true) in a subtransaction, so the row
 *      version readers see carries in xmin a transaction id assigned *after* its
 *      sequence was drawn. A deferred trigger does it at commit, once for all of the
 *      transaction's events (migration 7): one subtransaction per writing transaction,
 *      however many events it wrote (test/store/postgres-settle.test.ts). `settled` is in
 *      no index (migration 10), so the rewrite is normally a HOT update.
 * The rule: H = the highest `settled` event whose (full, 64-bit) xmin is below X, the
 * oldest transaction id still running in the reader's snapshot (counting only this
 * database's, see OLDEST_RUNNING_HERE); hand out only events with sequence <= H, in one
 * statement, so H and the rows come from the same snapshot. Why it holds: let M (sequence
 * H) be settled by id u < X, and T a transaction still running. T's id is >= X > u, so T
 * got it after u was assigned, which was after M's sequence was drawn; by (1) T draws
 * only after getting its id, so every sequence T holds is > H. A transaction with no id
 * yet, or one that starts later, draws above everything drawn so far. So nothing at or
 * below H can still appear. (This needs the sequence's CACHE 1: with per-session caches,
 * a later draw could return a lower value.)
 *
 * Cost and delay: writers never wait for each other (only for the rows they share, one
 * call's). A reader's horizon trails only while some transaction that was writing when a
 * newer event settled is still open: normally a few milliseconds. Any open write
 * transaction in voicecode's database holds it back, a frozen replica's included; the
 * store ends its own idle ones (transaction.ts, idle_in_transaction_session_timeout),
 * others are the operator's (docs/configuration.md).
 *
 * Reads of one call's events need no horizon: every transaction appending to a call holds
 * that call's row lock from before its first draw to its commit (apply.ts), so one call's
 * sequences are drawn and committed in the same order.
 */

/** 2^32: an xid (xmin) is the low half of a 64-bit transaction id (xid8). */
const XID_SPAN = "4294967296";

/**
 * The full id of a settled row's xmin. xmin is 32-bit; its transaction is a
 * subtransaction of the row's writer, assigned shortly after it, so it is the first
 * value at or above xact_id with the same low 32 bits.
 */
const SETTLED_BY = `(h.xact_id::text::bigint +
  ((h.xmin::text::bigint - h.xact_id::text::bigint % ${XID_SPAN} + ${XID_SPAN}) % ${XID_SPAN}))`;

/**
 * The lowest id any transaction of *this database* still running in the reader's snapshot
 * can have. Only they can draw from our sequence; the snapshot's own xmin counts every
 * database on the server, and would let an unrelated long transaction next door hold our
 * watchers back. Of the snapshot's running ids, those that pg_stat_activity shows running
 * in another database are left out (backend_xid is shown to any role); the rest count,
 * whatever their database, so an id that has ended by the time pg_stat_activity is read,
 * or a prepared transaction (not a session), errs on the safe side. With none left, the
 * snapshot's xmax: every id below it had been assigned and is not running.
 */
const OLDEST_RUNNING_HERE = `(
  SELECT COALESCE(MIN(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
  FROM pg_snapshot_xip(pg_current_snapshot()) AS x
  WHERE x::text::bigint % ${XID_SPAN} NOT IN (
    SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
    WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()))`;

/**
 * The horizon H, as a scalar SQL expression for use inside a reader's statement. It scans
 * the primary key backwards from the newest event and stops at the first that qualifies,
 * so its cost is the number of events committed since the oldest running transaction began.
 */
export const EVENT_HORIZON_SQL = `COALESCE((
  SELECT h.sequence FROM events h
  WHERE h.settled AND ${SETTLED_BY} < ${OLDEST_RUNNING_HERE}
  ORDER BY h.sequence DESC LIMIT 1), 0)`;
