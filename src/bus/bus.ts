import type { EventRecord } from "../core/model.js";

/**
 * Wakes WatchStatus streams when events are stored. A notice tells a stream to look; the
 * stream reads its events from the store by sequence, so a missed or merged notice can
 * never lose or reorder events. The one exception is a notice that carries its event
 * from a bus that reads the log in order, which a stream that is up to date takes as it
 * is (`carried`, streams/watch.ts).
 */
export interface EventNotice {
  readonly sequence: number;
  readonly callId: string;
  readonly clientReference: string;
  /**
   * A FAILED event after which another attempt follows; set on notices published in
   * this process (the outcome-fallback dispatcher reacts to it), absent on others.
   */
  readonly continues?: boolean;
  /** The call's tenant; absent from notices of replicas older than tenants. */
  readonly tenant?: string;
  /**
   * Set only by a bus that reads the event log in order (postgres-bus.ts), so that a watch
   * that is up to date can take its event without reading the store (streams/watch.ts).
   */
  readonly carried?: CarriedEvent;
}

export interface CarriedEvent {
  readonly event: EventRecord;
  /**
   * Where the notice's batch starts: the bus had announced every event up to it, and the
   * batch together with the ones after it leaves out no event that commits after it.
   */
  readonly since: number;
}

export type NoticeListener = (notice: EventNotice) => void;

/**
 * Watches subscribe by key (a call, or a client reference within a tenant), so a notice
 * costs O(its own watchers), not O(every open stream): with 10 000 streams open, offering
 * each notice to all of them was 10 000 calls per stored event.
 */
export interface Bus {
  publish(notices: readonly EventNotice[]): void;
  /** Every notice, whatever its call (internal consumers). Returns the unsubscribe function. */
  subscribe(listener: NoticeListener): () => void;
  /** The notices of one call. Returns the unsubscribe function. */
  subscribeCall(callId: string, listener: NoticeListener): () => void;
  /**
   * The notices of one client reference within one tenant; also a notice without a
   * tenant (an older replica's) for that reference, whatever the tenant: it only wakes
   * the watch for a read, which is scoped to the tenant. Returns the unsubscribe function.
   */
  subscribeReference(tenant: string, clientReference: string, listener: NoticeListener): () => void;
  /** Live subscriptions of all kinds; a released stream must bring this back down. */
  readonly subscriberCount: number;
  /**
   * A bus whose notices carry their events: every event up to this sequence has been
   * announced (and committed, or never will be), so a store read that starts now sees
   * every one of them. Undefined on a bus whose notices carry nothing, and before a
   * bus has started.
   */
  readonly announcedThrough?: number | undefined;
}

export interface LocalBus extends Bus {
  /** Keys (calls, tenant + reference pairs) with subscribers; for tests and leaks. */
  readonly keyCount: number;
}

/**
 * One subscription: its own object, so the same function subscribed twice counts (and
 * unsubscribes) twice.
 */
interface Entry {
  readonly listener: NoticeListener;
}

/**
 * Subscribers by key. A key's list is replaced, never changed in place, so a publish
 * walking it is not disturbed by a listener that unsubscribes (or subscribes) meanwhile.
 * Most keys have one watcher, so a list is one small array.
 */
class Index {
  private readonly map = new Map<string, readonly Entry[]>();

  get size(): number {
    return this.map.size;
  }

  add(key: string, entry: Entry): void {
    const list = this.map.get(key);
    this.map.set(key, list === undefined ? [entry] : [...list, entry]);
  }

  /** False if the entry was not there (already removed). */
  remove(key: string, entry: Entry): boolean {
    const list = this.map.get(key);
    if (list === undefined || !list.includes(entry)) return false;
    if (list.length === 1) this.map.delete(key);
    else this.map.set(
      key,
      list.filter((e) => e !== entry),
    );
    return true;
  }

  get(key: string): readonly Entry[] | undefined {
    return this.map.get(key);
  }

  values(): IterableIterator<readonly Entry[]> {
    return this.map.values();
  }
}

/** The in-process bus: one process, listeners called synchronously. */
export function createLocalBus(): LocalBus {
  const all = new Set<Entry>();
  const byCall = new Index();
  /** clientReference → tenant → subscribers (by reference first: a tenant-less notice wakes every tenant's). */
  const byReference = new Map<string, Index>();
  let keyed = 0;

  /**
   * A listener's error is kept for the end of the publish: it must not keep the notice
   * from the others, or a watch offered nothing where it expected its event could take a
   * later one and skip it.
   */
  const offer = (entry: Entry, notice: EventNotice, errors: unknown[]): void => {
    try {
      entry.listener(notice);
    } catch (error) {
      errors.push(error);
    }
  };
  const call = (list: readonly Entry[] | undefined, notice: EventNotice, errors: unknown[]): void => {
    if (list === undefined) return;
    for (const entry of list) offer(entry, notice, errors);
  };

  const keyedSubscription = (index: Index, key: string, listener: NoticeListener, forget?: () => void): (() => void) => {
    const entry: Entry = { listener };
    index.add(key, entry);
    keyed++;
    return () => {
      if (!index.remove(key, entry)) return;
      keyed--;
      forget?.();
    };
  };

  return {
    publish(notices) {
      const errors: unknown[] = [];
      for (const notice of notices) {
        for (const entry of all) offer(entry, notice, errors);
        call(byCall.get(notice.callId), notice, errors);
        const tenants = byReference.get(notice.clientReference);
        if (tenants === undefined) continue;
        if (notice.tenant !== undefined) {
          call(tenants.get(notice.tenant), notice, errors);
        } else {
          for (const list of tenants.values()) call(list, notice, errors);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
    subscribe(listener) {
      const entry: Entry = { listener };
      all.add(entry);
      return () => {
        all.delete(entry);
      };
    },
    subscribeCall(callId, listener) {
      return keyedSubscription(byCall, callId, listener);
    },
    subscribeReference(tenant, clientReference, listener) {
      let tenants = byReference.get(clientReference);
      if (tenants === undefined) {
        tenants = new Index();
        byReference.set(clientReference, tenants);
      }
      const index = tenants;
      return keyedSubscription(index, tenant, listener, () => {
        if (index.size === 0 && byReference.get(clientReference) === index) byReference.delete(clientReference);
      });
    },
    get subscriberCount() {
      return all.size + keyed;
    },
    get keyCount() {
      let n = byCall.size;
      for (const tenants of byReference.values()) n += tenants.size;
      return n;
    },
  };
}
