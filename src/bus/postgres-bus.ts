/**
 * The bus for several replicas on one PostgreSQL database. Every event-appending
 * transaction raises NOTIFY at commit (src/store/postgres/transaction.ts); each process
 * keeps one listener connection, and on every wake-up reads the notices it has not yet
 * announced straight from the events table by sequence. Because that read, not the
 * NOTIFY payload, is what gets announced, a lost NOTIFY or a dropped listener delays a
 * wake-up but never loses one:
 *   - after the listener reconnects (with backoff) it catches up from the last sequence
 *     it announced;
 *   - a periodic catch-up (catchUpMs) bounds the delay when a NOTIFY never came (a
 *     crash between commit and notify delivery).
 * Reads stop at the store's event horizon (src/store/postgres/visibility.ts), below which
 * no event can still commit, so "after the last announced sequence" never skips an event
 * committed later. A committed event above the horizon waits for older transactions to
 * end; their NOTIFY, or a short re-read (settleMinMs, backing off), then announces it.
 *
 * Each notice carries its event, read in the same query, and where its batch starts:
 * a watch that is up to date takes the event without a read of its own (one query per
 * wake-up of the process instead of one per event per watch; streams/watch.ts). Any
 * other watch reads by sequence itself, so a notice announced twice (local publish, then
 * the listener) costs at most one empty read.
 */
import pg from "pg";
import { EVENTS_CHANNEL } from "../store/postgres/constants.js";
import { numericInt8 } from "../store/postgres/pool.js";
import { EVENT_COLUMNS } from "../store/postgres/queries.js";
import { type EventRow, toEventRecord } from "../store/postgres/rows.js";
import { EVENT_HORIZON_SQL } from "../store/postgres/visibility.js";
import { type Bus, createLocalBus } from "./bus.js";

export interface PostgresBusOptions {
  readonly connectionString: string;
  /** Period of the catch-up read that covers lost NOTIFYs. Default 2000 ms. */
  readonly catchUpMs?: number;
  /** First reconnect delay after the listener drops; doubles up to reconnectMaxMs. Default 100. */
  readonly reconnectMinMs?: number;
  /** Default 5000. */
  readonly reconnectMaxMs?: number;
  /** The listener's application_name in pg_stat_activity. Default "voicecode-listener". */
  readonly applicationName?: string;
  /**
   * First delay before reading again when committed events wait above the horizon for an
   * older transaction that will raise no NOTIFY (one that appends no events, or another
   * program's); doubles while they wait, up to 1 000 ms (or catchUpMs if shorter).
   * Default 10 ms.
   */
  readonly settleMinMs?: number;
  /** Notices read per query while catching up. Default 500. */
  readonly batchSize?: number;
  /**
   * Bound on connecting (listener and reader) and on each of their queries. Default
   * 10 000 ms. Without it one attempt against a server that accepts but never answers
   * (half-open network, stuck proxy) would hang for good: no reconnect, no catch-up.
   */
  readonly timeoutMs?: number;
  /** Connection trouble the bus recovers from by itself; for logging. */
  readonly onError?: (err: Error, during: "listen" | "catch-up") => void;
}

export interface PostgresBus extends Bus {
  /** Reads the current end of the event log and connects the listener; throws if it cannot. */
  start(): Promise<void>;
  close(): Promise<void>;
  /** Every committed event up to this sequence has been announced; undefined before start(). */
  readonly announcedThrough: number | undefined;
  /** Whether the listener connection is currently up. */
  readonly listening: boolean;
}

/** One event, or none (NULL columns) when nothing new is below the horizon. */
type NoticeRow = {
  /** The horizon: every event up to it has committed or never will. */
  upto: number;
  /** The newest committed event, perhaps above the horizon. */
  top: number;
} & (EventRow | { [K in keyof EventRow]: null });

/**
 * The events after $1 up to the horizon, at most $2, and in the same snapshot the
 * horizon and the newest committed sequence (always one row, so they arrive when no
 * event does). Whole events: a watch that is up to date takes its own from the notice
 * instead of reading it again (src/streams/watch.ts), one query per wake-up of the
 * process instead of one per event.
 */
const NOTICES_SQL = `
  WITH h AS MATERIALIZED (
    SELECT ${EVENT_HORIZON_SQL} AS upto, (SELECT COALESCE(MAX(sequence), 0) FROM events) AS top
  )
  SELECT h.upto, h.top, e.*
  FROM h LEFT JOIN LATERAL (
    SELECT ${EVENT_COLUMNS} FROM events
    WHERE sequence > $1 AND sequence <= h.upto ORDER BY sequence LIMIT $2
  ) e ON true
  ORDER BY e.sequence`;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Ends a connection politely, or drops its socket if that does not finish in time: a
 * polite end waits for the server's reply, and a server behind a dead network never
 * sends one, which would keep the socket (and close()) hanging.
 */
async function endClient(client: pg.Client, graceMs: number): Promise<void> {
  const timer = setTimeout(() => client.connection.stream.destroy(), graceMs);
  try {
    await client.end();
  } catch {
    // Already failed: nothing left to end.
  } finally {
    clearTimeout(timer);
  }
}

export function createPostgresBus(options: PostgresBusOptions): PostgresBus {
  const local = createLocalBus();
  const catchUpMs = options.catchUpMs ?? 2000;
  const reconnectMinMs = options.reconnectMinMs ?? 100;
  const reconnectMaxMs = options.reconnectMaxMs ?? 5000;
  const batchSize = options.batchSize ?? 500;
  const settleMinMs = options.settleMinMs ?? 10;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const onError = options.onError ?? (() => undefined);
  // Catch-up reads go through their own connection so they still run while the listener is down.
  const reader = new pg.Pool({
    connectionString: options.connectionString,
    max: 1,
    application_name: "voicecode-bus-reader",
    types: numericInt8,
    connectionTimeoutMillis: timeoutMs,
    // A read that never answers would hold `running` forever, and every later catch-up
    // waits on it; timed out, the pool discards the connection and the next one reconnects.
    query_timeout: timeoutMs,
    keepAlive: true,
  });
  reader.on("error", (err) => onError(err, "catch-up"));

  let announced = 0;
  /** start() has read the horizon: `announced` means what Bus.announcedThrough says. */
  let started = false;
  let listener: pg.Client | undefined;
  /** A listener connection being set up, so close() can stop it. */
  let connecting: { readonly client: pg.Client; readonly done: Promise<void> } | undefined;
  let closed = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let catchUpTimer: NodeJS.Timeout | undefined;
  /** A re-read for committed events waiting above the horizon, and its next delay. */
  let settleTimer: NodeJS.Timeout | undefined;
  let settleDelayMs = settleMinMs;

  // One catch-up at a time, so notices go out in sequence order and never twice; a
  // request arriving meanwhile makes the running one go round once more.
  let running: Promise<void> | undefined;
  let again = false;
  async function drain(): Promise<void> {
    let waiting = false;
    do {
      again = false;
      for (;;) {
        // Named: parsed and planned once per reader connection. Parsing and planning the
        // horizon (pg_stat_activity is a view over three relations) was about three
        // quarters of the read's server time, once per wake-up.
        const { rows } = await reader.query<NoticeRow>({ name: "voicecode_bus_notices", text: NOTICES_SQL, values: [announced, batchSize] });
        const events = rows.flatMap(({ upto: _, top: __, ...row }) => (row.sequence === null ? [] : [toEventRecord(row)]));
        const since = announced;
        const through = events.at(-1)?.sequence ?? since;
        if (through > since) {
          announced = through;
          settleDelayMs = settleMinMs;
        }
        local.publish(
          events.map((event) => ({
            sequence: event.sequence,
            callId: event.callId,
            clientReference: event.clientReference,
            tenant: event.tenant,
            carried: { event, since },
          })),
        );
        const top = rows[0]?.top ?? 0;
        waiting = top > announced;
        if (events.length < batchSize || closed) break;
      }
    } while (again && !closed);
    if (waiting) scheduleSettle();
  }

  /**
   * Committed events wait above the horizon: an older transaction is still open. If it
   * appends events its commit raises a NOTIFY; if not, nothing would wake us before the
   * periodic catch-up, so read again soon, backing off while it stays open.
   */
  function scheduleSettle(): void {
    if (closed || settleTimer !== undefined) return;
    const delay = settleDelayMs;
    settleDelayMs = Math.min(catchUpMs, 1_000, settleDelayMs * 2);
    settleTimer = setTimeout(() => {
      settleTimer = undefined;
      void catchUp();
    }, delay);
    settleTimer.unref();
  }
  function catchUp(): Promise<void> {
    if (closed) return Promise.resolve();
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = drain()
      .catch((err: unknown) => onError(asError(err), "catch-up"))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== undefined) return;
    const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(failures, 16));
    failures++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect().catch((err: unknown) => {
        if (closed) return;
        onError(asError(err), "listen");
        scheduleReconnect();
      });
    }, delay);
    reconnectTimer.unref();
  }

  async function connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: options.applicationName ?? "voicecode-listener",
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      keepAlive: true,
    });
    let dropped = false;
    const drop = (err?: Error): void => {
      if (dropped) return;
      dropped = true;
      if (err !== undefined) onError(err, "listen");
      if (listener === client) listener = undefined;
      void endClient(client, timeoutMs);
      scheduleReconnect();
    };
    client.on("error", drop);
    client.on("end", () => drop());
    client.on("notification", (message) => {
      // The payload is the highest sequence committed; skip the read if we are past it.
      if (message.channel !== EVENTS_CHANNEL) return;
      const hint = Number(message.payload);
      if (!Number.isFinite(hint) || hint > announced) void catchUp();
    });
    const setUp = (async () => {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    })();
    connecting = { client, done: setUp.catch(() => undefined) };
    try {
      await setUp;
    } catch (err) {
      dropped = true;
      void endClient(client, timeoutMs);
      throw err;
    } finally {
      connecting = undefined;
    }
    if (closed) {
      dropped = true;
      await endClient(client, timeoutMs);
      return;
    }
    listener = client;
    failures = 0;
    // Listening first, then reading: whatever committed while we were away is in this
    // read, and whatever commits from now on raises a notification.
    await catchUp();
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    clearTimeout(reconnectTimer);
    clearInterval(catchUpTimer);
    clearTimeout(settleTimer);
    // A reconnect in progress would otherwise finish after close() returned and leave a
    // connection open. Its socket is dropped, not ended: a polite end would wait for the
    // server, which may be the very thing not answering; the attempt then fails at once.
    const pending = connecting;
    if (pending !== undefined) {
      pending.client.connection.stream.destroy();
      await pending.done;
    }
    const client = listener;
    listener = undefined;
    if (client !== undefined) await endClient(client, timeoutMs);
    await running;
    await reader.end();
  }

  return {
    publish(notices) {
      local.publish(notices);
    },
    subscribe(listenerFn) {
      return local.subscribe(listenerFn);
    },
    subscribeCall(callId, listenerFn) {
      return local.subscribeCall(callId, listenerFn);
    },
    subscribeReference(tenant, clientReference, listenerFn) {
      return local.subscribeReference(tenant, clientReference, listenerFn);
    },
    get subscriberCount() {
      return local.subscriberCount;
    },
    get announcedThrough() {
      return started ? announced : undefined;
    },
    get listening() {
      return listener !== undefined;
    },
    async start() {
      // Watchers read history from the store themselves; the bus announces only what
      // commits from now on. From the horizon, not the newest event: one still in flight
      // below the newest is "from now on".
      const { rows } = await reader.query<{ upto: number }>(`SELECT ${EVENT_HORIZON_SQL} AS upto`);
      announced = rows[0]?.upto ?? 0;
      started = true;
      try {
        await connect();
      } catch (err) {
        await close();
        throw err;
      }
      catchUpTimer = setInterval(() => void catchUp(), catchUpMs);
      catchUpTimer.unref();
    },
    close,
  };
}
