/**
 * Wakes WatchStatus streams when events are stored. Notices carry only what a stream
 * needs to decide whether to look; the events themselves are always read from the
 * store by sequence, so a missed or merged notice can never lose or reorder events.
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
}

export type NoticeListener = (notice: EventNotice) => void;

export interface Bus {
  publish(notices: readonly EventNotice[]): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: NoticeListener): () => void;
  /** Live subscriptions; a released stream must bring this back down. */
  readonly subscriberCount: number;
}

/** The in-process bus: one process, listeners called synchronously. */
export function createLocalBus(): Bus {
  const listeners = new Set<NoticeListener>();
  return {
    publish(notices) {
      for (const notice of notices) {
        for (const listener of listeners) listener(notice);
      }
    },
    subscribe(listener) {
      // Wrap so the same function subscribed twice still counts (and unsubscribes) twice.
      const entry: NoticeListener = (n) => listener(n);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    get subscriberCount() {
      return listeners.size;
    },
  };
}
